/**
 * One request per row of the authorization matrix (src/rbac/route-matrix.ts), as each caller
 * would send it: about the member's objects (world.ids), with bodies that are valid and harmless
 * (a no-op role change, an ignored title), so the status tells the authorization decision and
 * not a validation error. Routes that destroy or use up something (delete, suspend, edit,
 * promote, logout) get a fresh object for every caller.
 */
import { createECDH, randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Caller, ROUTE_MATRIX } from "../../src/rbac/route-matrix.js";
import { webpushSubscriptions } from "../../src/db/schema/index.js";
import { CHATS, PNG_BYTES, type ApiWorld } from "./api-world.js";
import { field, type TestUser } from "./server.js";

export interface AuthzCall {
  method: string;
  path: string;
  json?: unknown;
  /** A raw body (the file upload) instead of JSON. */
  raw?: { bytes: Uint8Array; contentType: string };
  /** Sent instead of the caller's own token (a fresh session to log out, a user acting on themselves). */
  token?: string;
}

export interface CallerContext {
  caller: Caller;
  /** The caller's user; undefined for anonymous. */
  user: TestUser | undefined;
  world: ApiWorld;
}

export type CallBuilder = (context: CallerContext) => Promise<AuthzCall> | AuthzCall;

/**
 * A valid push subscription body. Its endpoint is a loopback port nothing listens on (the
 * discard port): only the subscription rows use it, and the test row clears them first.
 */
const pushSubscription = (endpoint: string) => {
  const browser = createECDH("prime256v1");
  browser.generateKeys();
  return { endpoint, p256dh_key: browser.getPublicKey().toString("base64url"), auth_key: randomBytes(16).toString("base64url") };
};

let counter = 0;
/** A name no other call has used: creations must not collide with each other's 409. */
const unique = (prefix: string) => `${prefix}-${++counter}-${process.pid}`;

const text = (value: string) => ({ content: [{ type: "text", text: value }] });

function idOf(body: unknown): string {
  const id = field(body, "id");
  if (typeof id !== "string" && typeof id !== "number") throw new Error(`no id in ${JSON.stringify(body)}`);
  return String(id);
}

const freshGroup = async (w: ApiWorld, member?: TestUser) => {
  const group = idOf(await w.must(w.admin, "POST", "/api/v2/groups", { name: unique("authz-group") }, 201));
  if (member) await w.must(w.admin, "POST", `/api/v2/groups/${group}/members`, { user_id: member.id }, 201);
  return group;
};

const freshChat = async (w: ApiWorld) => {
  const chat = idOf(await w.must(w.member, "POST", CHATS, text("fresh chat"), 201));
  const history = field(await w.must(w.member, "GET", `${CHATS}/${chat}/messages`, undefined, 200), "messages");
  const first = Array.isArray(history) ? history.find((message) => field(message, "role") === "user") : undefined;
  return { chat, message: idOf(first) };
};

/** A provider row for `provider`, made by the admin if there is none; returns its id. */
async function providerRow(w: ApiWorld, provider: string): Promise<string> {
  const list = await w.must(w.admin, "GET", `${CHATS}/providers`, undefined, 200);
  const existing = Array.isArray(list) ? list.find((row) => field(row, "provider") === provider && field(row, "source") === "database") : undefined;
  if (existing) return idOf(existing);
  return idOf(await w.must(w.admin, "POST", `${CHATS}/providers`, { provider, api_key: "sk-authz" }, 201));
}

/** An enabled MCP server config nobody connects to (the discard port). */
const mcpServerBody = () => ({ slug: unique("authz-mcp").replace(/[^a-z0-9-]/g, ""), url: "http://127.0.0.1:9/mcp", enabled: true, description: "unchanged" });

/** A fresh MCP server config made by the admin (an OAuth 2 one when asked); returns its id. */
async function mcpServer(w: ApiWorld, oauth = false): Promise<string> {
  const oauthFields = { auth_type: "oauth2", oauth_client_id: "authz", oauth_authorize_url: "http://127.0.0.1:9/authorize", oauth_token_url: "http://127.0.0.1:9/token" };
  return idOf(await w.must(w.admin, "POST", "/api/experimental/mcp/servers", { ...mcpServerBody(), ...(oauth ? oauthFields : {}) }, 201));
}

/** Only callers who will be let through may use a fresh object up; the others leave it for them. */
const allowed = (context: CallerContext) => context.caller === "admin" || context.caller === "owner";

export const CALL_BUILDERS = {
  "GET /healthz": () => ({ method: "GET", path: "/healthz" }),
  "GET /metrics": () => ({ method: "GET", path: "/metrics" }),
  "GET /api/openapi.json": () => ({ method: "GET", path: "/api/openapi.json" }),
  "GET /": () => ({ method: "GET", path: "/" }),
  "GET /api/v2/users/first": () => ({ method: "GET", path: "/api/v2/users/first" }),
  "POST /api/v2/users/first": () => ({ method: "POST", path: "/api/v2/users/first", json: { username: unique("late"), email: `${unique("late")}@example.com`, password: "password-late-1" } }),
  "POST /api/v2/users/login": ({ world }) => ({ method: "POST", path: "/api/v2/users/login", json: { email: world.member.email, password: world.member.password } }),
  "POST /api/v2/users/logout": async ({ world, user }) => ({
    method: "POST",
    path: "/api/v2/users/logout",
    // Its own session, so the caller's token used by every other row survives.
    ...(user ? { token: await world.t.login(user.username, user.password) } : {}),
  }),

  "GET /api/v2/users": () => ({ method: "GET", path: "/api/v2/users" }),
  "POST /api/v2/users": () => ({ method: "POST", path: "/api/v2/users", json: { username: unique("made"), email: `${unique("made")}@example.com`, password: "password-made-1" } }),
  "GET /api/v2/users/{user}": ({ world }) => ({ method: "GET", path: `/api/v2/users/${world.member.id}` }),
  // Roles set to what they are: allowed callers change nothing.
  "PATCH /api/v2/users/{user}/roles": ({ world }) => ({ method: "PATCH", path: `/api/v2/users/${world.member.id}/roles`, json: { roles: ["member"] } }),
  "PUT /api/v2/users/{user}/status/suspend": async ({ world, caller }) => {
    const target = await world.t.createUser(world.owner);
    return { method: "PUT", path: `/api/v2/users/${target.id}/status/suspend`, ...(caller === "member" ? { token: target.token } : {}) };
  },
  "PUT /api/v2/users/{user}/status/activate": async ({ world, caller }) => {
    const target = await world.t.createUser(world.owner);
    return { method: "PUT", path: `/api/v2/users/${target.id}/status/activate`, ...(caller === "member" ? { token: target.token } : {}) };
  },
  "POST /api/v2/users/{user}/keys": ({ world }) => ({ method: "POST", path: `/api/v2/users/${world.member.id}/keys`, json: { name: "authz" } }),
  "GET /api/v2/users/{user}/keys": ({ world }) => ({ method: "GET", path: `/api/v2/users/${world.member.id}/keys` }),
  "DELETE /api/v2/users/{user}/keys/{id}": async ({ world }) => {
    const key = await world.apiToken(world.member);
    return { method: "DELETE", path: `/api/v2/users/${world.member.id}/keys/${key.id}` };
  },

  "GET /api/experimental/webpush/vapid-public-key": () => ({ method: "GET", path: "/api/experimental/webpush/vapid-public-key" }),
  "POST /api/v2/users/{user}/webpush/subscription": ({ world }) => ({
    method: "POST",
    path: `/api/v2/users/${world.member.id}/webpush/subscription`,
    json: pushSubscription(`http://127.0.0.1:9/authz/${unique("push")}`),
  }),
  "DELETE /api/v2/users/{user}/webpush/subscription": async ({ world, caller }) => {
    const endpoint = `http://127.0.0.1:9/authz/${unique("push")}`;
    // The member's own subscription, made fresh for the one caller allowed to delete it.
    if (caller === "member") await world.must(world.member, "POST", `/api/v2/users/${world.member.id}/webpush/subscription`, pushSubscription(endpoint), 204);
    return { method: "DELETE", path: `/api/v2/users/${world.member.id}/webpush/subscription`, json: { endpoint } };
  },
  "POST /api/v2/users/{user}/webpush/test": async ({ world }) => {
    // No subscription left to an endpoint nobody answers: the allowed call sends to none (204).
    await world.t.server.database.db.delete(webpushSubscriptions).where(eq(webpushSubscriptions.userId, world.member.id));
    return { method: "POST", path: `/api/v2/users/${world.member.id}/webpush/test` };
  },

  "GET /api/v2/groups": () => ({ method: "GET", path: "/api/v2/groups" }),
  "POST /api/v2/groups": () => ({ method: "POST", path: "/api/v2/groups", json: { name: unique("group") } }),
  "GET /api/v2/groups/{group}": ({ world }) => ({ method: "GET", path: `/api/v2/groups/${world.ids.group}` }),
  "PATCH /api/v2/groups/{group}": ({ world }) => ({ method: "PATCH", path: `/api/v2/groups/${world.ids.group}`, json: { display_name: "World group" } }),
  "DELETE /api/v2/groups/{group}": async ({ world }) => ({ method: "DELETE", path: `/api/v2/groups/${await freshGroup(world)}` }),
  "POST /api/v2/groups/{group}/members": ({ world }) => ({ method: "POST", path: `/api/v2/groups/${world.ids.group}/members`, json: { user_id: world.spare.id } }),
  "DELETE /api/v2/groups/{group}/members/{user}": async ({ world }) => ({
    method: "DELETE",
    path: `/api/v2/groups/${await freshGroup(world, world.member)}/members/${world.member.id}`,
  }),

  "GET /api/v2/templates": () => ({ method: "GET", path: "/api/v2/templates" }),
  "POST /api/v2/templates": () => ({ method: "POST", path: "/api/v2/templates", json: { name: unique("tpl") } }),
  "GET /api/v2/templates/{template}": ({ world }) => ({ method: "GET", path: `/api/v2/templates/${world.ids.template}` }),
  "PATCH /api/v2/templates/{template}": ({ world }) => ({ method: "PATCH", path: `/api/v2/templates/${world.ids.template}`, json: { display_name: "World template" } }),
  "DELETE /api/v2/templates/{template}": async ({ world }) => ({
    method: "DELETE",
    path: `/api/v2/templates/${idOf(await world.must(world.admin, "POST", "/api/v2/templates", { name: unique("gone") }, 201))}`,
  }),

  "GET /api/v2/workspaces": () => ({ method: "GET", path: "/api/v2/workspaces" }),
  "POST /api/v2/workspaces": ({ world }) => ({ method: "POST", path: "/api/v2/workspaces", json: { template_id: world.ids.template, name: unique("ws") } }),
  "GET /api/v2/workspaces/{workspace}": ({ world }) => ({ method: "GET", path: `/api/v2/workspaces/${world.ids.memberWorkspace}` }),
  "POST /api/v2/workspaces/{workspace}/builds": ({ world }) => ({ method: "POST", path: `/api/v2/workspaces/${world.ids.memberWorkspace}/builds`, json: { transition: "start" } }),
  "GET /api/v2/workspaces/{workspace}/builds": ({ world }) => ({ method: "GET", path: `/api/v2/workspaces/${world.ids.memberWorkspace}/builds` }),
  "GET /api/v2/workspacebuilds/{build}": ({ world }) => ({ method: "GET", path: `/api/v2/workspacebuilds/${world.ids.memberBuild}` }),
  "GET /api/v2/workspaces/{workspace}/shares": ({ world }) => ({ method: "GET", path: `/api/v2/workspaces/${world.ids.memberWorkspace}/shares` }),
  "PUT /api/v2/workspaces/{workspace}/shares/{user}": ({ world }) => ({
    method: "PUT",
    path: `/api/v2/workspaces/${world.ids.memberWorkspace}/shares/${world.spare.id}`,
    json: { role: "read" },
  }),
  "DELETE /api/v2/workspaces/{workspace}/shares/{user}": async ({ world }) => {
    await world.must(world.member, "PUT", `/api/v2/workspaces/${world.ids.memberWorkspace}/shares/${world.spare.id}`, { role: "read" }, 200);
    return { method: "DELETE", path: `/api/v2/workspaces/${world.ids.memberWorkspace}/shares/${world.spare.id}` };
  },

  "GET /api/v2/external-auth/{provider}": () => ({ method: "GET", path: "/api/v2/external-auth/github" }),
  "PUT /api/v2/external-auth/{provider}": () => ({ method: "PUT", path: "/api/v2/external-auth/github", json: { access_token: "ghp_authz000" } }),
  "DELETE /api/v2/external-auth/{provider}": async ({ world, user }) => {
    if (user) await world.must(user, "PUT", "/api/v2/external-auth/github", { access_token: "ghp_authz000" }, 204);
    return { method: "DELETE", path: "/api/v2/external-auth/github" };
  },

  "GET /api/experimental/chats/providers": () => ({ method: "GET", path: `${CHATS}/providers` }),
  "POST /api/experimental/chats/providers": async (context) => {
    if (allowed(context)) {
      // Each allowed caller creates it anew, so the answer is the 201 and not a 409.
      await context.world.must(context.world.admin, "DELETE", `${CHATS}/providers/${await providerRow(context.world, "openai")}`, undefined, 204);
    }
    return { method: "POST", path: `${CHATS}/providers`, json: { provider: "openai", api_key: "sk-authz" } };
  },
  "PATCH /api/experimental/chats/providers/{id}": ({ world }) => ({ method: "PATCH", path: `${CHATS}/providers/${world.ids.provider}`, json: { display_name: "World provider" } }),
  "DELETE /api/experimental/chats/providers/{id}": async ({ world }) => ({ method: "DELETE", path: `${CHATS}/providers/${await providerRow(world, "google")}` }),
  "POST /api/experimental/chats/providers/{id}/test": ({ world }) => ({ method: "POST", path: `${CHATS}/providers/${world.ids.provider}/test`, json: { model: "world-model" } }),
  "GET /api/experimental/chats/model-configs": () => ({ method: "GET", path: `${CHATS}/model-configs` }),
  "POST /api/experimental/chats/model-configs": () => ({ method: "POST", path: `${CHATS}/model-configs`, json: { provider: "anthropic", model: unique("model"), context_limit: 1000 } }),
  "PATCH /api/experimental/chats/model-configs/{id}": ({ world }) => ({ method: "PATCH", path: `${CHATS}/model-configs/${world.ids.modelConfig}`, json: { display_name: "World model" } }),
  "DELETE /api/experimental/chats/model-configs/{id}": async ({ world }) => {
    const config = idOf(await world.must(world.admin, "POST", `${CHATS}/model-configs`, { provider: "anthropic", model: unique("doomed"), context_limit: 1000 }, 201));
    return { method: "DELETE", path: `${CHATS}/model-configs/${config}` };
  },
  "GET /api/experimental/chats/models": () => ({ method: "GET", path: `${CHATS}/models` }),

  "GET /api/experimental/mcp/servers": () => ({ method: "GET", path: "/api/experimental/mcp/servers" }),
  "POST /api/experimental/mcp/servers": () => ({ method: "POST", path: "/api/experimental/mcp/servers", json: mcpServerBody() }),
  "GET /api/experimental/mcp/servers/{id}": async ({ world }) => ({ method: "GET", path: `/api/experimental/mcp/servers/${await mcpServer(world)}` }),
  "PATCH /api/experimental/mcp/servers/{id}": async ({ world }) => ({
    method: "PATCH",
    path: `/api/experimental/mcp/servers/${await mcpServer(world)}`,
    json: { description: "unchanged" },
  }),
  "DELETE /api/experimental/mcp/servers/{id}": async ({ world }) => ({ method: "DELETE", path: `/api/experimental/mcp/servers/${await mcpServer(world)}` }),
  "GET /api/experimental/mcp/servers/{id}/oauth2/connect": async ({ world }) => ({
    method: "GET",
    path: `/api/experimental/mcp/servers/${await mcpServer(world, true)}/oauth2/connect`,
  }),
  "GET /api/experimental/mcp/servers/{id}/oauth2/callback": async ({ world }) => ({
    method: "GET",
    path: `/api/experimental/mcp/servers/${await mcpServer(world, true)}/oauth2/callback?code=c&state=forged`,
  }),
  "POST /api/experimental/mcp/servers/{id}/oauth2/disconnect": async ({ world }) => ({
    method: "POST",
    path: `/api/experimental/mcp/servers/${await mcpServer(world, true)}/oauth2/disconnect`,
  }),

  "GET /api/experimental/chats/config/system-prompt": () => ({ method: "GET", path: `${CHATS}/config/system-prompt` }),
  "PUT /api/experimental/chats/config/system-prompt": () => ({ method: "PUT", path: `${CHATS}/config/system-prompt`, json: { system_prompt: "" } }),
  "GET /api/experimental/chats/config/user-prompt": () => ({ method: "GET", path: `${CHATS}/config/user-prompt` }),
  "PUT /api/experimental/chats/config/user-prompt": () => ({ method: "PUT", path: `${CHATS}/config/user-prompt`, json: { custom_prompt: "Be brief." } }),
  "GET /api/experimental/chats/config/workspace-ttl": () => ({ method: "GET", path: `${CHATS}/config/workspace-ttl` }),
  "PUT /api/experimental/chats/config/workspace-ttl": () => ({ method: "PUT", path: `${CHATS}/config/workspace-ttl`, json: { workspace_ttl_ms: 0 } }),
  "GET /api/experimental/chats/config/desktop-enabled": () => ({ method: "GET", path: `${CHATS}/config/desktop-enabled` }),
  "PUT /api/experimental/chats/config/desktop-enabled": () => ({ method: "PUT", path: `${CHATS}/config/desktop-enabled`, json: { enable_desktop: false } }),

  "GET /api/experimental/chats/cost/users": () => ({ method: "GET", path: `${CHATS}/cost/users` }),
  "GET /api/experimental/chats/insights/pull-requests": () => ({ method: "GET", path: `${CHATS}/insights/pull-requests` }),
  "GET /api/experimental/chats/cost/{user}/summary": ({ world }) => ({ method: "GET", path: `${CHATS}/cost/${world.member.id}/summary` }),
  "GET /api/experimental/chats/usage-limits": () => ({ method: "GET", path: `${CHATS}/usage-limits` }),
  // Disabling limits: the state every other row runs in.
  "PUT /api/experimental/chats/usage-limits": () => ({ method: "PUT", path: `${CHATS}/usage-limits`, json: { spend_limit_micros: null } }),
  "GET /api/experimental/chats/usage-limits/status": () => ({ method: "GET", path: `${CHATS}/usage-limits/status` }),
  "PUT /api/experimental/chats/usage-limits/overrides/{user}": ({ world }) => ({
    method: "PUT",
    path: `${CHATS}/usage-limits/overrides/${world.member.id}`,
    json: { spend_limit_micros: 1_000_000_000 },
  }),
  "DELETE /api/experimental/chats/usage-limits/overrides/{user}": async ({ world }) => {
    await world.must(world.admin, "PUT", `${CHATS}/usage-limits/overrides/${world.member.id}`, { spend_limit_micros: 1_000_000_000 }, 200);
    return { method: "DELETE", path: `${CHATS}/usage-limits/overrides/${world.member.id}` };
  },
  "PUT /api/experimental/chats/usage-limits/group-overrides/{group}": async ({ world }) => ({
    method: "PUT",
    path: `${CHATS}/usage-limits/group-overrides/${await freshGroup(world)}`,
    json: { spend_limit_micros: 1_000_000_000 },
  }),
  "DELETE /api/experimental/chats/usage-limits/group-overrides/{group}": async ({ world }) => {
    const group = await freshGroup(world);
    await world.must(world.admin, "PUT", `${CHATS}/usage-limits/group-overrides/${group}`, { spend_limit_micros: 1_000_000_000 }, 200);
    return { method: "DELETE", path: `${CHATS}/usage-limits/group-overrides/${group}` };
  },

  "POST /api/experimental/chats/files": () => ({ method: "POST", path: `${CHATS}/files`, raw: { bytes: PNG_BYTES, contentType: "image/png" } }),
  "GET /api/experimental/chats/files/{file}": ({ world }) => ({ method: "GET", path: `${CHATS}/files/${world.ids.memberFile}` }),

  "POST /api/experimental/chats": () => ({ method: "POST", path: CHATS, json: text("a new chat") }),
  "GET /api/experimental/chats": () => ({ method: "GET", path: CHATS }),
  "GET /api/experimental/chats/{chat}": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}` }),
  // The title is accepted and ignored (behavior.md): allowed callers change nothing.
  "PATCH /api/experimental/chats/{chat}": ({ world }) => ({ method: "PATCH", path: `${CHATS}/${world.ids.memberChat}`, json: { title: "ignored" } }),
  "GET /api/experimental/chats/{chat}/diff": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}/diff` }),
  "POST /api/experimental/chats/{chat}/interrupt": ({ world }) => ({ method: "POST", path: `${CHATS}/${world.ids.memberChat}/interrupt` }),
  "GET /api/experimental/chats/{chat}/messages": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}/messages` }),
  "POST /api/experimental/chats/{chat}/messages": ({ world }) => ({ method: "POST", path: `${CHATS}/${world.ids.memberChat}/messages`, json: text("one more") }),
  "PATCH /api/experimental/chats/{chat}/messages/{message}": async ({ world }) => {
    const { chat, message } = await freshChat(world);
    return { method: "PATCH", path: `${CHATS}/${chat}/messages/${message}`, json: text("edited") };
  },
  "DELETE /api/experimental/chats/{chat}/queue/{id}": ({ world }) => ({ method: "DELETE", path: `${CHATS}/${world.ids.memberChat}/queue/${world.ids.memberQueued}` }),
  "POST /api/experimental/chats/{chat}/queue/{id}/promote": async ({ world }) => {
    const sent = await world.must(world.member, "POST", `${CHATS}/${world.ids.memberChat}/messages`, text("to promote"), 200);
    return { method: "POST", path: `${CHATS}/${world.ids.memberChat}/queue/${idOf(field(sent, "queued_message"))}/promote` };
  },

  "GET /api/experimental/chats/watch": () => ({ method: "GET", path: `${CHATS}/watch` }),
  "GET /api/experimental/chats/{chat}/stream": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}/stream` }),
  "GET /api/experimental/chats/{chat}/stream/git": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}/stream/git` }),
  "GET /api/experimental/chats/{chat}/stream/desktop": ({ world }) => ({ method: "GET", path: `${CHATS}/${world.ids.memberChat}/stream/desktop` }),

  "GET /api/v2/workspaceagents/me/connect": () => ({ method: "GET", path: "/api/v2/workspaceagents/me/connect" }),
  "GET /api/v2/workspaceagents/me/gitauth": () => ({ method: "GET", path: "/api/v2/workspaceagents/me/gitauth?url=https://github.com/a/b" }),
  "GET /api/internal/relay/chats/{chat}/parts": ({ world }) => ({ method: "GET", path: `/api/internal/relay/chats/${world.ids.memberChat}/parts` }),
  "POST /api/internal/agents/{agent}/rpc": ({ world }) => ({ method: "POST", path: `/api/internal/agents/${world.ids.memberWorkspace}/rpc`, json: { method: "ping" } }),
  "GET /api/internal/agents/{agent}/git-watch": ({ world }) => ({ method: "GET", path: `/api/internal/agents/${world.ids.memberWorkspace}/git-watch` }),
  "GET /api/internal/agents/{agent}/desktop-vnc": ({ world }) => ({ method: "GET", path: `/api/internal/agents/${world.ids.memberWorkspace}/desktop-vnc` }),
} as const satisfies Record<keyof typeof ROUTE_MATRIX, CallBuilder>;
