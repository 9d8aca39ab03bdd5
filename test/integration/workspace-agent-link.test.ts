/**
 * The server side of the agent link, with a protocol-level fake agent: token checks at connect,
 * calls and their errors, a disconnect failing calls in flight, a newer socket replacing an older
 * one, forwarding from a replica that does not hold the socket (PostgreSQL), and the chat's git
 * stream endpoint.
 */
import { eq } from "drizzle-orm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_CONNECT_PATH, AGENT_GIT_AUTH_PATH, type GitWatchMessage } from "../../src/agent/protocol.js";
import { chatDiffStatuses, chats, workspaceAgents, workspaceBuilds, workspaces } from "../../src/db/schema/index.js";
import { heartbeatChat } from "../../src/chats/state.js";
import { AgentCallError, AgentUnavailableError } from "../../src/workspaces/agent-conn/errors.js";
import { connectFakeAgent, seedRunningWorkspace, type FakeAnswer } from "../helpers/fake-agent.js";
import { testDatabaseKind } from "../helpers/env.js";
import { refusedUpgrade } from "../helpers/ws.js";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { chatFixture, chatIn } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";
import type { RequestFrame } from "../../src/agent/protocol.js";

const postgres = testDatabaseKind() === "postgres";
let a: TestServer;
let b: TestServer | undefined;
let owner: TestUser;

beforeAll(async () => {
  a = await startTestServer();
  if (postgres) b = await startTestServer({ database: a.database });
  owner = await a.createOwner();
});
afterAll(async () => {
  await b?.close();
  await a.close();
});

const echo = (request: RequestFrame): FakeAnswer => {
  if (request.method === "file.read") return { result: { content: `     1\t${request.chat_id ?? ""}`, file_size: 10, total_lines: 1, lines_read: 1 } };
  if (request.method === "file.write") return { error: { code: "bad_request", message: "read-only file system" } };
  if (request.method === "process.output") return "silent";
  return { result: {} };
};

async function agentRow(id: string) {
  const [row] = await a.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.id, id));
  return row;
}

describe("agent connect", () => {
  it("refuses a malformed or unknown token with 401", async () => {
    const url = `${a.url}${AGENT_CONNECT_PATH}`;
    expect(await refusedUpgrade(url, { Authorization: "Bearer nope" })).toBe(401);
    expect(await refusedUpgrade(url, { Authorization: "Bearer abcdefghij-ABCDEFGHIJKLMNOPQRSTUV" })).toBe(401);
    expect(await refusedUpgrade(url, {})).toBe(401);
  });

  it("refuses the agent of a build that is no longer the latest start", async () => {
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    await a.server.database.db
      .insert(workspaceBuilds)
      .values({ workspaceId: seeded.workspace.id, buildNumber: 2, transition: "stop", status: "succeeded" });
    expect(await refusedUpgrade(`${a.url}${AGENT_CONNECT_PATH}`, { Authorization: `Bearer ${seeded.token}` })).toBe(401);
  });

  it("refuses an agent that speaks another protocol version", async () => {
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const ws = new WebSocket(`${a.url.replace(/^http/, "ws")}${AGENT_CONNECT_PATH}`, { headers: { Authorization: `Bearer ${seeded.token}` } });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise<void>((resolve) => ws.once("open", () => resolve()));
    ws.send(JSON.stringify({ type: "hello", protocol: 99, version: "future", os: "linux", directory: "/x" }));
    expect(await closed).toBe(4002);
    expect((await agentRow(seeded.agent.id))?.replicaId).toBeNull();
  });

  it("records the connection, serves calls with the chat context, and reports agent errors", async () => {
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const agent = await connectFakeAgent(a.url, seeded.token, echo);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === a.server.replicaId, { message: "agent recorded" });
    const row = await agentRow(seeded.agent.id);
    expect(row).toMatchObject({ version: "test", operatingSystem: "linux", directory: "/fake" });
    expect(row?.firstConnectedAt).toBeInstanceOf(Date);
    expect((await a.request("/metrics")).text).toMatch(/^chatd_workspace_agents_connected [1-9]/m);

    const chatId = crypto.randomUUID();
    const client = await a.server.services.agents.directory.forWorkspace(seeded.workspace.id, { chat_id: chatId, ancestor_chat_ids: [] });
    const read = await client.call("file.read", { path: "a.txt" });
    expect(read.content).toBe(`     1\t${chatId}`);
    expect(agent.requests.at(-1)).toMatchObject({ method: "file.read", chat_id: chatId, params: { path: "a.txt" } });
    await expect(client.call("file.write", { path: "a", content: "b" })).rejects.toThrow(new AgentCallError("bad_request", "read-only file system"));
    agent.close();
    await agent.closed;
  });

  it("fails a call in flight when the agent disconnects, and clears the holder", async () => {
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const agent = await connectFakeAgent(a.url, seeded.token, echo);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === a.server.replicaId, { message: "agent recorded" });
    const client = await a.server.services.agents.directory.forWorkspace(seeded.workspace.id, {});
    const pending = client.call("process.output", { id: "p1", wait_ms: 60_000 }, { timeoutMs: 60_000 });
    await waitFor(() => agent.requests.some((r) => r.method === "process.output"), { message: "request reached the agent" });
    agent.close();
    await expect(pending).rejects.toBeInstanceOf(AgentUnavailableError);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === null, { message: "holder cleared" });
    expect((await agentRow(seeded.agent.id))?.disconnectedAt).toBeInstanceOf(Date);
    await expect(a.server.services.agents.directory.forWorkspace(seeded.workspace.id, {})).rejects.toBeInstanceOf(AgentUnavailableError);
  });

  it("lets a newer socket of the same agent replace the older one", async () => {
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const first = await connectFakeAgent(a.url, seeded.token, () => ({ result: { content: "first", file_size: 0, total_lines: 0, lines_read: 0 } }));
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === a.server.replicaId, { message: "first recorded" });
    const second = await connectFakeAgent(a.url, seeded.token, () => ({ result: { content: "second", file_size: 0, total_lines: 0, lines_read: 0 } }));
    await first.closed;
    // The old socket's close must not clear the new one's record.
    const client = await a.server.services.agents.directory.forWorkspace(seeded.workspace.id, {});
    expect((await client.call("file.read", { path: "x" })).content).toBe("second");
    expect((await agentRow(seeded.agent.id))?.replicaId).toBe(a.server.replicaId);
    second.close();
    await second.closed;
  });
});

describe.runIf(postgres)("a replica that does not hold the agent's socket", () => {
  it("forwards calls and git watches to the replica that does", async () => {
    if (!b) throw new Error("no second replica");
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const agent = await connectFakeAgent(a.url, seeded.token, echo);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === a.server.replicaId, { message: "agent on A" });
    const chatId = crypto.randomUUID();
    const client = await b.server.services.agents.directory.forWorkspace(seeded.workspace.id, { chat_id: chatId });
    expect((await client.call("file.read", { path: "x" })).content).toBe(`     1\t${chatId}`);
    await expect(client.call("file.write", { path: "a", content: "b" })).rejects.toThrow("read-only file system");

    const received: GitWatchMessage[] = [];
    const stream = await client.openGitWatch((message) => received.push(message));
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.start"), { message: "watch started on the holder" });
    const start = agent.requests.find((r) => r.method === "git.watch.start");
    const streamId = typeof start?.params === "object" && start.params !== null && "stream_id" in start.params ? String(start.params.stream_id) : "";
    expect(start?.chat_id).toBe(chatId);
    agent.push(streamId, { type: "changes", scanned_at: new Date().toISOString(), repositories: [{ repo_root: "/r", branch: "main" }] });
    await waitFor(() => received.length === 1, { message: "forwarded git message" });
    await stream.refresh();
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.refresh"), { message: "refresh forwarded" });
    stream.close();
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.stop"), { message: "stop forwarded" });
    agent.close();
    await agent.closed;
  });
});

describe("GET /chats/{chat}/stream/git", () => {
  it("pipes the agent's git watch to the chat's viewer, and refresh back", async () => {
    const db = a.server.database.db;
    const seeded = await seedRunningWorkspace(db, owner.id);
    const fixture = await chatFixture(db);
    const chat = await chatIn(db, fixture, "waiting");
    await db.update(chats).set({ ownerId: owner.id, workspaceId: seeded.workspace.id }).where(eq(chats.id, chat.id));
    const agent = await connectFakeAgent(a.url, seeded.token, echo);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === a.server.replicaId, { message: "agent recorded" });

    const viewer = new WebSocket(`${a.url.replace(/^http/, "ws")}/api/experimental/chats/${chat.id}/stream/git`, { headers: { Authorization: `Bearer ${owner.token}` } });
    const messages: unknown[] = [];
    viewer.on("message", (data: WebSocket.RawData) => messages.push(JSON.parse(data.toString())));
    await new Promise<void>((resolve, reject) => {
      viewer.once("open", () => resolve());
      viewer.once("error", reject);
    });
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.start"), { message: "watch started" });
    const start = agent.requests.find((r) => r.method === "git.watch.start");
    expect(start?.chat_id).toBe(chat.id);
    const streamId = typeof start?.params === "object" && start.params !== null && "stream_id" in start.params ? String(start.params.stream_id) : "";
    agent.push(streamId, { type: "changes", scanned_at: "2026-01-01T00:00:00Z", repositories: [{ repo_root: "/r", branch: "feature", unified_diff: "diff --git a/x b/x" }] });
    await waitFor(() => messages.length === 1, { message: "viewer got the change" });
    expect(messages[0]).toMatchObject({ type: "changes", repositories: [{ branch: "feature" }] });
    viewer.send(JSON.stringify({ type: "refresh" }));
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.refresh"), { message: "refresh reached the agent" });
    viewer.close();
    await waitFor(() => agent.requests.some((r) => r.method === "git.watch.stop"), { message: "watch stopped with the viewer" });
    agent.close();
    await agent.closed;
  });

  it("answers 400 for a chat without a workspace", async () => {
    const db = a.server.database.db;
    const fixture = await chatFixture(db);
    const chat = await chatIn(db, fixture, "waiting");
    await db.update(chats).set({ ownerId: owner.id }).where(eq(chats.id, chat.id));
    expect(await refusedUpgrade(`${a.url}/api/experimental/chats/${chat.id}/stream/git`, { Authorization: `Bearer ${owner.token}` })).toBe(400);
  });
});

describe("GET /api/v2/workspaceagents/me/gitauth", () => {
  it("marks every chat of the workspace stale without a chat id, answers 404 without a token, and never for another host", async () => {
    const db = a.server.database.db;
    const seeded = await seedRunningWorkspace(db, owner.id);
    const fixture = await chatFixture(db);
    const chatA = await chatIn(db, fixture, "waiting");
    const chatB = await chatIn(db, fixture, "waiting");
    const unrelated = await chatIn(db, fixture, "waiting");
    for (const chat of [chatA, chatB]) await db.update(chats).set({ ownerId: owner.id, workspaceId: seeded.workspace.id }).where(eq(chats.id, chat.id));
    await db.update(chats).set({ ownerId: owner.id }).where(eq(chats.id, unrelated.id));
    const ask = (query: Record<string, string>, token = seeded.token) =>
      a.request(`${AGENT_GIT_AUTH_PATH}?${new URLSearchParams(query).toString()}`, { headers: { Authorization: `Bearer ${token}` } });

    const noToken = await ask({ url: "https://github.com", git_branch: "main", git_remote_origin: "https://github.com/o/r.git" });
    expect(noToken.status).toBe(404);
    const marked = await db.select().from(chatDiffStatuses);
    expect(marked.map((row) => row.chatId).sort()).toEqual([chatA.id, chatB.id].sort());
    expect(marked.every((row) => row.gitBranch === "main" && row.gitRemoteOrigin === "https://github.com/o/r.git")).toBe(true);

    await a.request("/api/v2/external-auth/github", { method: "PUT", token: owner.token, body: { access_token: "ghp_linktest" } });
    expect((await ask({ url: "https://github.com" })).body).toEqual({ username: "x-access-token", password: "ghp_linktest" });
    expect((await ask({ url: "https://evil.example.com" })).status).toBe(404);
    expect((await ask({ url: "https://github.com" }, "abcdefghij-ABCDEFGHIJKLMNOPQRSTUV")).status).toBe(401);
    expect((await ask({ url: "https://github.com", chat_id: "nope" })).status).toBe(400);
  });
});

describe("a running chat's heartbeat", () => {
  it("marks its workspace used", async () => {
    const db = a.server.database.db;
    const seeded = await seedRunningWorkspace(db, owner.id);
    const fixture = await chatFixture(db);
    const chat = await chatIn(db, fixture, "running", { workerId: crypto.randomUUID() });
    await db.update(chats).set({ workspaceId: seeded.workspace.id }).where(eq(chats.id, chat.id));
    const [before] = await db.select().from(workspaces).where(eq(workspaces.id, seeded.workspace.id));
    expect(before?.lastUsedAt).toBeNull();
    const lease = { workerId: chat.workerId ?? "", startedAt: chat.startedAt ?? new Date(0) };
    expect(await heartbeatChat(db, chat.id, lease)).toBe(true);
    const [after] = await db.select().from(workspaces).where(eq(workspaces.id, seeded.workspace.id));
    expect(after?.lastUsedAt).toBeInstanceOf(Date);
  });
});

describe.runIf(postgres)("a replica shutting down", () => {
  it("drops its agent sockets and records each disconnect before the database closes", async () => {
    const replica = await startTestServer({ database: a.database });
    const seeded = await seedRunningWorkspace(a.server.database.db, owner.id);
    const agent = await connectFakeAgent(replica.url, seeded.token, echo);
    await waitFor(async () => (await agentRow(seeded.agent.id))?.replicaId === replica.server.replicaId, { message: "held by the replica" });
    await replica.close();
    await agent.closed;
    const row = await agentRow(seeded.agent.id);
    expect(row?.replicaId).toBeNull();
    expect(row?.disconnectedAt).toBeInstanceOf(Date);
  });
});
