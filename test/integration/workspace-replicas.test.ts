/**
 * Two replicas on one PostgreSQL database: the workspace's agent is connected to replica A, while
 * every chat runs on replica B (A's chat worker is stopped). Every workspace tool, and the chat's
 * git stream opened on B, reach the agent through A.
 */
import fs from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chats, workspaceAgents } from "../../src/db/schema/index.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { testDatabaseKind } from "../helpers/env.js";
import { useMockLlm } from "../helpers/llm.js";
import { createChatViaApi, finishedToolResults, localTemplateId, resultOf, scriptChat } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";

const postgres = testDatabaseKind() === "postgres";
const mock = useMockLlm();
let a: TestServer;
let b: TestServer;
let owner: TestUser;
let workspaceId = "";

beforeAll(async () => {
  if (!postgres) return;
  a = await startTestServer();
  b = await startTestServer({ database: a.database });
  owner = await a.createOwner();
  await configureAnthropicModel(a, owner, mock.baseUrls.anthropic);
  // A keeps serving HTTP and agent sockets but runs no chats.
  await a.server.daemon.stop();
  const created = await a.request("/api/v2/workspaces", { method: "POST", token: owner.token, body: { template_id: await localTemplateId(a, owner), name: "split" } });
  workspaceId = String(field(created.body, "id"));
  await waitFor(
    async () => (await a.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId)))[0]?.replicaId === a.server.replicaId,
    { timeoutMs: 30_000, intervalMs: 50, message: "agent connected to A" },
  );
}, 60_000);
afterAll(async () => {
  if (!postgres) return;
  await b.close();
  await a.close();
});

describe.runIf(postgres)("agent on replica A, chat on replica B", () => {
  it("runs every workspace tool through A", async () => {
    scriptChat(mock, [
      [{ name: "create_workspace", input: { template_id: await localTemplateId(a, owner) } }],
      [
        { name: "write_file", input: { path: "notes.md", content: "alpha\nbeta\n" } },
        { name: "execute", input: { command: "sleep 30 &" } },
        { name: "execute", input: { command: "sleep 0.5; echo slow", timeout: "100ms" } },
      ],
      [{ name: "edit_files", input: { files: [{ path: "notes.md", edits: [{ search: "beta", replace: "gamma" }] }] } }],
      [
        { name: "read_file", input: { path: "notes.md" } },
        { name: "execute", input: { command: "cat notes.md | wc -l" } },
        { name: "process_list", input: {} },
      ],
      "done",
    ]);
    const chatId = await createChatViaApi(b, owner, "Work across replicas", workspaceId);
    await waitFor(async () => (await b.server.database.db.select().from(chats).where(eq(chats.id, chatId)))[0]?.workerId === b.server.replicaId, {
      timeoutMs: 15_000,
      message: "chat runs on B",
    });
    const results = await finishedToolResults(b, chatId, 60_000);
    for (const result of results) expect(result.is_error, JSON.stringify(result.result)).toBeUndefined();
    const [exists, written, background, timedOut, edited, read, counted, listed] = results.map(resultOf);
    expect(exists).toMatchObject({ created: false, status: "already_exists", message: "workspace is already running and reachable" });
    expect(written).toEqual({ ok: true });
    expect(edited).toEqual({ ok: true });
    expect(String(read?.content)).toContain("gamma");
    expect(counted).toMatchObject({ success: true, output: "2\n" });
    expect(timedOut).toMatchObject({ exit_code: -1 });
    const processes = listed?.processes;
    // The background sleep and the timed-out command at least (the concurrent wc may not have started).
    expect(Array.isArray(processes) && processes.length).toBeGreaterThanOrEqual(2);

    scriptChat(mock, [
      [
        { name: "process_output", input: { process_id: String(timedOut?.background_process_id), wait_timeout: "10s" } },
        { name: "process_signal", input: { process_id: String(background?.background_process_id), signal: "kill" } },
      ],
      "cleaned",
    ]);
    await b.request(`/api/experimental/chats/${chatId}/messages`, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "finish up" }] } });
    await waitFor(async () => (await finishedToolResults(b, chatId)).length === results.length + 2, { timeoutMs: 30_000, message: "two more results" });
    const [output, signalled] = (await finishedToolResults(b, chatId)).slice(results.length).map(resultOf);
    expect(output).toMatchObject({ success: true, exit_code: 0, output: "slow\n" });
    expect(signalled).toMatchObject({ success: true });

    const [agent] = await a.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
    expect(fs.readFileSync(path.join(agent?.directory ?? "", "notes.md"), "utf8")).toBe("alpha\ngamma\n");
    expect(agent?.replicaId).toBe(a.server.replicaId);
  }, 90_000);

  it("serves the chat's git stream from B", async () => {
    scriptChat(mock, [[{ name: "execute", input: { command: "git init -q . && echo change > tracked.txt" } }], "ok"]);
    const chatId = await createChatViaApi(b, owner, "Make a git change", workspaceId);
    await finishedToolResults(b, chatId);
    const viewer = new WebSocket(`${b.url.replace(/^http/, "ws")}/api/experimental/chats/${chatId}/stream/git`, { headers: { Authorization: `Bearer ${owner.token}` } });
    const messages: unknown[] = [];
    viewer.on("message", (data: WebSocket.RawData) => messages.push(JSON.parse(data.toString())));
    await new Promise<void>((resolve, reject) => {
      viewer.once("open", () => resolve());
      viewer.once("error", reject);
    });
    viewer.send(JSON.stringify({ type: "refresh" }));
    await waitFor(() => messages.some((m) => field(m, "type") === "changes"), { timeoutMs: 15_000, message: "git changes through the relay" });
    const changes = messages.find((m) => field(m, "type") === "changes");
    expect(JSON.stringify(changes)).toContain("tracked.txt");
    viewer.close();
  }, 60_000);
});
