/**
 * Workspaces across their life, seen from chats: who may attach a workspace to a new chat (the
 * privilege-escalation fix), create_workspace's answers for an existing workspace, start_workspace
 * finding the new agent after a restart, root-only tools, and git credentials through
 * `chatd gitaskpass` marking only the asking chat's diff status stale.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatDiffStatuses, workspaceAgents } from "../../src/db/schema/index.js";
import { createChat } from "../../src/chats/state.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { createChatViaApi, finishedToolResults, localTemplateId, resultOf, scriptChat } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";
import { connectStream } from "../helpers/ws.js";

const WORKSPACE_DENIED = "Workspace not found or you do not have access to this resource";
const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let other: TestUser;
let templateId = "";
let modelConfigId = "";

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  admin = await t.createUser(owner, ["admin"]);
  member = await t.createUser(owner);
  other = await t.createUser(owner);
  modelConfigId = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
  templateId = await localTemplateId(t, member);
}, 60_000);
afterAll(async () => {
  await t.close();
});

async function createWorkspace(user: TestUser, name: string): Promise<string> {
  const created = await t.request("/api/v2/workspaces", { method: "POST", token: user.token, body: { template_id: templateId, name } });
  const id = field(created.body, "id");
  if (created.status !== 201 || typeof id !== "string") throw new Error(`workspace create failed: ${created.text}`);
  await waitFor(async () => field(field((await t.request(`/api/v2/workspaces/${id}`, { token: user.token })).body, "agent"), "status") === "connected", {
    timeoutMs: 30_000,
    intervalMs: 50,
    message: "workspace agent connected",
  });
  return id;
}

describe("attaching a workspace to a new chat", () => {
  it("needs use (ssh), not just read: an admin who can read another's workspace is refused, and so is a read share", async () => {
    const workspaceId = await createWorkspace(member, "escalation");
    expect((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: admin.token })).status).toBe(200);
    const body = { content: [{ type: "text", text: "run something as them" }], workspace_id: workspaceId };
    const asAdmin = await t.request("/api/experimental/chats", { method: "POST", token: admin.token, body });
    expect(asAdmin.status).toBe(400);
    expect(field(asAdmin.body, "message")).toBe(WORKSPACE_DENIED);

    const asStranger = await t.request("/api/experimental/chats", { method: "POST", token: other.token, body });
    expect(asStranger.status).toBe(400);
    expect(field(asStranger.body, "message")).toBe(WORKSPACE_DENIED);

    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "PUT", token: member.token, body: { role: "read" } })).status).toBe(200);
    const withRead = await t.request("/api/experimental/chats", { method: "POST", token: other.token, body });
    expect(withRead.status).toBe(400);
    expect(field(withRead.body, "message")).toBe(WORKSPACE_DENIED);

    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "PUT", token: member.token, body: { role: "use" } })).status).toBe(200);
    const withUse = await t.request("/api/experimental/chats", { method: "POST", token: other.token, body });
    expect(withUse.status).toBe(201);
    expect(field(withUse.body, "workspace_id")).toBe(workspaceId);

    const mine = await t.request("/api/experimental/chats", { method: "POST", token: member.token, body });
    expect(mine.status).toBe(201);
    // Nothing was created for the refused requests.
    const chats = await t.request("/api/experimental/chats", { token: admin.token });
    expect(Array.isArray(chats.body) ? chats.body.length : -1).toBe(0);
  }, 60_000);

  it("refuses unknown, malformed and deleted workspaces with the same answer", async () => {
    const deleted = await createWorkspace(member, "to-delete");
    expect((await t.request(`/api/v2/workspaces/${deleted}/builds`, { method: "POST", token: member.token, body: { transition: "delete" } })).status).toBe(201);
    await waitFor(async () => field((await t.request(`/api/v2/workspaces/${deleted}`, { token: member.token })).body, "status") === "deleted", {
      timeoutMs: 20_000,
      intervalMs: 50,
      message: "deleted",
    });
    for (const workspaceId of [crypto.randomUUID(), "not-a-uuid", deleted]) {
      const response = await t.request("/api/experimental/chats", { method: "POST", token: member.token, body: { content: [{ type: "text", text: "x" }], workspace_id: workspaceId } });
      expect(response.status).toBe(400);
      expect(field(response.body, "message")).toBe(WORKSPACE_DENIED);
    }
  });
});

describe("create_workspace and start_workspace on the chat's existing workspace", () => {
  it("reports a running one, hints to start a stopped one, and start_workspace brings up a new agent that the tools find", async () => {
    const workspaceId = await createWorkspace(member, "lifecycle");
    scriptChat(mock, [[{ name: "create_workspace", input: { template_id: templateId } }], "exists"]);
    const chatId = await createChatViaApi(t, member, "Use my workspace", workspaceId);
    const [running] = await finishedToolResults(t, chatId);
    expect(resultOf(running)).toMatchObject({ created: false, status: "already_exists", message: "workspace is already running and reachable" });

    const [firstAgent] = await t.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
    const stop = await t.request(`/api/v2/workspaces/${workspaceId}/builds`, { method: "POST", token: member.token, body: { transition: "stop" } });
    expect(stop.status).toBe(201);
    await waitFor(async () => field((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: member.token })).body, "status") === "stopped", {
      timeoutMs: 20_000,
      intervalMs: 50,
      message: "stopped",
    });

    scriptChat(mock, [
      [{ name: "execute", input: { command: "echo hi" } }],
      [{ name: "create_workspace", input: { template_id: templateId } }],
      [{ name: "start_workspace", input: {} }],
      [{ name: "execute", input: { command: "echo back" } }],
      "restarted",
    ]);
    await t.request(`/api/experimental/chats/${chatId}/messages`, { method: "POST", token: member.token, body: { content: [{ type: "text", text: "again" }] } });
    await waitFor(async () => (await finishedToolResults(t, chatId)).length === 5, { timeoutMs: 60_000, intervalMs: 50, message: "four more results" });
    const [, unreachable, stopped, started, back] = await finishedToolResults(t, chatId);
    expect(unreachable?.is_error).toBe(true);
    expect(resultOf(stopped)).toMatchObject({ created: false, status: "stopped", message: "workspace is stopped; use start_workspace to start it" });
    expect(resultOf(started)).toMatchObject({ started: true, workspace_name: "lifecycle", agent_status: "ready" });
    expect(resultOf(back)).toMatchObject({ success: true, output: "back\n" });
    const agents = await t.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
    expect(agents.map((agent) => agent.id)).toContain(firstAgent?.id);
    expect(agents.length).toBe(2);
  }, 90_000);
});

describe("root-only tools", () => {
  it("are offered to a root chat and withheld from a delegated one", async () => {
    const workspaceId = await createWorkspace(member, "delegation");
    const db = t.server.database.db;
    const { chat: root } = await createChat(db, t.server.daemon.hints, {
      ownerId: member.id,
      title: "root: no title request",
      modelConfigId,
      workspaceId,
      messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: member.id }],
    });
    mock.enqueue({ parts: [{ type: "text", text: "root done" }] });
    await finishedToolResults(t, root.id);
    const rootTools = JSON.stringify(mock.requests.at(-1)?.body);
    expect(rootTools).toContain('"create_workspace"');
    expect(rootTools).toContain('"execute"');

    const { chat: child } = await createChat(db, t.server.daemon.hints, {
      ownerId: member.id,
      title: "child: no title request",
      modelConfigId,
      workspaceId,
      parentChatId: root.id,
      rootChatId: root.id,
      messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: member.id }],
    });
    mock.enqueue({ parts: [{ type: "tool-call", id: "toolu_child", name: "create_workspace", input: { template_id: templateId } }] }, { parts: [{ type: "text", text: "child done" }] });
    const [refused] = await finishedToolResults(t, child.id);
    const childRequest = JSON.stringify(mock.requests.at(-2)?.body);
    expect(childRequest).not.toContain('"create_workspace"');
    expect(childRequest).not.toContain('"list_templates"');
    expect(childRequest).toContain('"execute"');
    expect(refused).toMatchObject({ is_error: true, result: { error: "Tool not found: create_workspace" } });
  }, 60_000);
});

describe("git credentials", () => {
  it("answers the owner's token to chatd gitaskpass and marks only that chat's diff status stale", async () => {
    const workspaceId = await createWorkspace(member, "gitauth");
    expect((await t.request("/api/v2/external-auth/github", { token: member.token })).body).toMatchObject({ authenticated: false });
    expect((await t.request("/api/v2/external-auth/github", { method: "PUT", token: member.token, body: { access_token: "ghp_secretsecret" } })).status).toBe(204);
    const link = await t.request("/api/v2/external-auth/github", { token: member.token });
    expect(link.body).toMatchObject({ provider: "github", authenticated: true });
    expect(link.text).not.toContain("ghp_secretsecret");

    const bystander = await createChatViaApi(t, member, "Bystander on the same workspace", workspaceId);
    mock.enqueue({ parts: [{ type: "text", text: "idle" }] }, { parts: [{ type: "text", text: "Bystander" }] });
    await finishedToolResults(t, bystander);

    const askpass = "git init -q -b feature/x . 2>/dev/null; git remote add origin https://github.com/acme/app.git 2>/dev/null; "
      + `"$GIT_ASKPASS" "Username for 'https://github.com': "; "$GIT_ASKPASS" "Password for 'https://github.com': "`;
    const watch = await connectStream(`${t.url}/api/experimental/chats/watch`, member.token);
    scriptChat(mock, [[{ name: "execute", input: { command: askpass } }], "pushed"]);
    const chatId = await createChatViaApi(t, member, "Push the branch", workspaceId);
    const [result] = await finishedToolResults(t, chatId);
    const events = await watch.waitForEvents((all) => all.some((e) => field(e, "kind") === "diff_status_change"), "diff_status_change");
    watch.close();
    const changed = events.find((e) => field(e, "kind") === "diff_status_change");
    expect(field(changed, "chat")).toMatchObject({ id: chatId, diff_status: { chat_id: chatId, url: "https://github.com/acme/app/tree/feature/x" } });
    const fetched = await t.request(`/api/experimental/chats/${chatId}`, { token: member.token });
    expect(field(fetched.body, "diff_status")).toMatchObject({ url: "https://github.com/acme/app/tree/feature/x" });
    expect(resultOf(result)).toMatchObject({ success: true, output: "x-access-token\nghp_secretsecret\n" });

    const statuses = await t.server.database.db.select().from(chatDiffStatuses);
    const mine = statuses.find((row) => row.chatId === chatId);
    expect(mine).toMatchObject({ gitBranch: "feature/x", gitRemoteOrigin: "https://github.com/acme/app.git" });
    expect(mine?.staleAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(statuses.some((row) => row.chatId === bystander)).toBe(false);
    // The token never lands in a log line.
    expect(t.logs.join("\n")).not.toContain("ghp_secretsecret");
    const none = await t.server.database.db.select().from(chatDiffStatuses).where(and(eq(chatDiffStatuses.chatId, bystander)));
    expect(none).toHaveLength(0);
  }, 60_000);
});
