/**
 * A populated server for the API-wide tests (fuzz, authorization matrix): an owner, an admin, a
 * member who owns one of everything (chat with a queued message, workspace, file, git token, API
 * token), another member who owns a chat of their own, a spare user, and the admin's template,
 * group, provider and model config. The chat daemon is stopped once the world is built, so chats
 * stay `pending` and no background run writes to the database while a test compares snapshots.
 */
import { expect } from "vitest";
import { field, startTestServer, type ApiResponse, type TestServer, type TestUser } from "./server.js";
import { waitFor } from "./wait.js";
import { writeFakeAgent, type FakeAgent } from "./workspaces.js";

export const CHATS = "/api/experimental/chats";

/** The smallest bytes the PNG sniffer accepts. */
export const PNG_BYTES = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

/** A fake agent starts in milliseconds, but the build still runs a shell; a loaded CI box is slow. */
const BUILD_DEADLINE_MS = 20_000;

export interface WorldIds {
  memberChat: string;
  otherChat: string;
  adminChat: string;
  /** The first (user) message of the member's chat. */
  memberMessage: number;
  /** A message waiting in the member's chat queue. */
  memberQueued: number;
  memberWorkspace: string;
  memberBuild: string;
  memberFile: string;
  template: string;
  templateName: string;
  group: string;
  groupName: string;
  provider: string;
  modelConfig: string;
  /** An API token of the spare user (ids of other users' tokens, never a caller's own). */
  spareKey: string;
}

export interface ApiWorld {
  t: TestServer;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
  other: TestUser;
  /** A user no test authenticates as: the fuzz may suspend or re-role it without harm. */
  spare: TestUser;
  ids: WorldIds;
  /** Sends JSON as `user` and fails the test unless the status is `status`; returns the body. */
  must(user: TestUser, method: string, path: string, body: unknown, status: number): Promise<unknown>;
  /** Creates an API token for `user` and returns the full token (`<id>-<secret>`). */
  apiToken(user: TestUser): Promise<{ id: string; key: string }>;
  uploadPng(user: TestUser): Promise<string>;
  close(): Promise<void>;
}

function idOf(body: unknown): string {
  const id = field(body, "id");
  if (typeof id !== "string" && typeof id !== "number") throw new Error(`no id in ${JSON.stringify(body)}`);
  return String(id);
}

export async function startApiWorld(): Promise<ApiWorld> {
  const fake: FakeAgent = writeFakeAgent({ secretFile: "/nonexistent", dataDir: "/nonexistent", repoDir: "/nonexistent", serverPid: process.pid });
  const t = await startTestServer({ workspaces: { agentCommand: fake.command } });
  const owner = await t.createOwner();
  const admin = await t.createUser(owner, ["admin"]);
  const member = await t.createUser(owner);
  const other = await t.createUser(owner);
  const spare = await t.createUser(owner);

  const must = async (user: TestUser, method: string, path: string, body: unknown, status: number): Promise<unknown> => {
    const response: ApiResponse = await t.request(path, { method, token: user.token, ...(body === undefined ? {} : { body }) });
    expect(response.status, `${method} ${path}: ${response.text}`).toBe(status);
    return response.body;
  };
  const apiToken = async (user: TestUser) => {
    const body = await must(user, "POST", "/api/v2/users/me/keys", { name: "world" }, 201);
    return { id: idOf(body), key: String(field(body, "key")) };
  };
  const uploadPng = async (user: TestUser): Promise<string> => {
    const response = await fetch(`${t.url}${CHATS}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "image/png" },
      body: PNG_BYTES,
    });
    expect(response.status).toBe(201);
    return idOf(await response.json());
  };

  // Stopped before any chat exists: chats stay pending, so nothing runs behind the tests' backs.
  await t.server.daemon.stop();

  const provider = idOf(await must(admin, "POST", `${CHATS}/providers`, { provider: "anthropic", api_key: "sk-world", base_url: "http://127.0.0.1:9/v1" }, 201));
  const modelConfig = idOf(await must(admin, "POST", `${CHATS}/model-configs`, { provider: "anthropic", model: "world-model", context_limit: 100_000 }, 201));
  const templateName = "world-template";
  const template = idOf(await must(admin, "POST", "/api/v2/templates", { name: templateName, setup_script: "echo ready" }, 201));
  const groupName = "world-group";
  const group = idOf(await must(admin, "POST", "/api/v2/groups", { name: groupName }, 201));
  await must(admin, "POST", `/api/v2/groups/${group}/members`, { user_id: member.id }, 201);

  const chatBody = (text: string) => ({ content: [{ type: "text", text }] });
  const memberChat = idOf(await must(member, "POST", CHATS, chatBody("member chat"), 201));
  const otherChat = idOf(await must(other, "POST", CHATS, chatBody("other chat"), 201));
  const adminChat = idOf(await must(admin, "POST", CHATS, chatBody("admin chat"), 201));
  const history = await must(member, "GET", `${CHATS}/${memberChat}/messages`, undefined, 200);
  const messages = field(history, "messages");
  const firstMessage = Array.isArray(messages) ? messages.find((message) => field(message, "role") === "user") : undefined;
  // The chat is pending, so a new message waits in the queue.
  const sent = await must(member, "POST", `${CHATS}/${memberChat}/messages`, chatBody("queued"), 200);
  const memberFile = await uploadPng(member);
  await must(member, "PUT", "/api/v2/external-auth/github", { access_token: "ghp_world0000000000" }, 204);

  const workspace = await must(member, "POST", "/api/v2/workspaces", { template_id: template, name: "world-ws" }, 201);
  const memberWorkspace = idOf(workspace);
  await waitFor(
    async () => {
      const status = field(field((await t.request(`/api/v2/workspaces/${memberWorkspace}`, { token: member.token })).body, "latest_build"), "status");
      return status === "succeeded" || status === "failed";
    },
    { timeoutMs: BUILD_DEADLINE_MS, intervalMs: 25, message: "the world workspace's first build" },
  );
  const spareKey = (await apiToken(spare)).id;

  return {
    t,
    owner,
    admin,
    member,
    other,
    spare,
    ids: {
      memberChat,
      otherChat,
      adminChat,
      memberMessage: Number(field(firstMessage, "id")),
      memberQueued: Number(field(field(sent, "queued_message"), "id")),
      memberWorkspace,
      memberBuild: idOf(field(workspace, "latest_build")),
      memberFile,
      template,
      templateName,
      group,
      groupName,
      provider,
      modelConfig,
      spareKey,
    },
    must,
    apiToken,
    uploadPng,
    close: async () => {
      await t.close();
      fake.remove();
    },
  };
}
