/**
 * MCP servers end to end (issue 15), on both databases: the config routes, and chats whose runs
 * use real MCP servers built with the official SDK — one over streamable HTTP in this process
 * (header auth required), one over stdio (a spawned script), one that is down. The mock LLM's
 * router reads each request (tools offered, tool results fed back) and scripts the next turn.
 */
import { createServer as createHttpServer } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { eq } from "drizzle-orm";
import { messageParts } from "../../src/chats/store.js";
import { mcpServerUserTokens } from "../../src/db/schema/index.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";
import { configureAnthropicModel, field, startTestServer, type ApiResponse, type TestServer, type TestUser } from "../helpers/server.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";
import { startFixtureHttpServer, type FixtureHttpServer } from "../fixtures/mcp-http-server.js";

const SERVERS = "/api/experimental/mcp/servers";
const CHATS = "/api/experimental/chats";
/** The header secret: it must reach the MCP server and never any response or log line. */
const SECRET = "mcp-secret-7f3a9c1e5b";
/** Short enough that the hanging tool times out quickly, long enough for a normal call. */
const CALL_TIMEOUT = "1500ms";
const OAUTH_CLIENT_SECRET = "oauth-client-secret-51d0";
const OAUTH_ACCESS_TOKEN = "oauth-access-token-9e2b";
const OAUTH_REFRESH_TOKEN = "oauth-refresh-token-77c1";
const STDIO_SCRIPT = path.resolve("test/fixtures/mcp-stdio-server.ts");

const requestBody = z.object({
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })),
  tools: z.array(z.object({ name: z.string(), input_schema: z.unknown().optional() })).optional(),
});

interface Turn {
  step: number;
  tools: string[];
  /** The request's messages as text: tool results are looked for in it. */
  text: string;
}

type Router = (turn: Turn) => MockTurn | Promise<MockTurn>;

const say = (text: string): MockTurn => ({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
let callCounter = 0;
const calls = (...list: [string, Record<string, unknown>][]): MockTurn => ({
  parts: list.map(([name, input]) => ({ type: "tool-call" as const, id: `toolu_mcp_${++callCounter}`, name, input })),
  usage: { input: 1, output: 1 },
});

let router: Router = () => say("unscripted");
const turns: Turn[] = [];

function turnOf(request: RecordedRequest): Turn {
  const body = requestBody.parse(request.body);
  return {
    step: body.messages.filter((message) => message.role === "assistant").length,
    tools: (body.tools ?? []).map((tool) => tool.name),
    text: JSON.stringify(body.messages),
  };
}

let mock: MockLlm;
let t: TestServer;
let owner: TestUser;
let member: TestUser;
let http: FixtureHttpServer;
/** The MCP server behind OAuth 2: it takes only the access token the token endpoint issues. */
let oauthMcp: FixtureHttpServer;
let tokenServer: TokenServer;

interface TokenServer {
  url: string;
  /** The form of every token request. */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

/** A token endpoint that trades the code "good-code" (with a PKCE verifier) for the access token. */
async function startTokenServer(): Promise<TokenServer> {
  const requests: URLSearchParams[] = [];
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      requests.push(form);
      const code = form.get("grant_type") === "authorization_code" && form.get("code") === "good-code" && form.get("code_verifier");
      const refresh = form.get("grant_type") === "refresh_token" && form.get("refresh_token") === OAUTH_REFRESH_TOKEN;
      res.writeHead(code || refresh ? 200 : 400, { "content-type": "application/json" });
      const tokens = { access_token: OAUTH_ACCESS_TOKEN, token_type: "bearer", expires_in: 3600, ...(code ? { refresh_token: OAUTH_REFRESH_TOKEN } : {}) };
      res.end(JSON.stringify(code || refresh ? tokens : { error: "invalid_grant" }));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no TCP address"));
      else resolve(address.port);
    });
  });
  return { url: `http://127.0.0.1:${port}/token`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
const ids = { http: "", stdio: "", down: "", disabled: "" };
/** Every API response this file got, to search for the secret. */
const responses: ApiResponse[] = [];

async function api(user: TestUser, method: string, pathname: string, body?: unknown): Promise<ApiResponse> {
  const response = await t.request(pathname, { method, token: user.token, ...(body === undefined ? {} : { body }) });
  responses.push(response);
  return response;
}

async function createServer(body: Record<string, unknown>): Promise<string> {
  const created = await api(owner, "POST", SERVERS, body);
  expect(created.status, created.text).toBe(201);
  const id = field(created.body, "id");
  if (typeof id !== "string") throw new Error(created.text);
  return id;
}

beforeAll(async () => {
  mock = await startMockLlm({
    fallback: async (request) => {
      if (!request.stream) return say("A title");
      const turn = turnOf(request);
      turns.push(turn);
      return router(turn);
    },
  });
  t = await startTestServer({ flags: { "mcp-call-timeout": CALL_TIMEOUT } });
  owner = await t.createOwner();
  member = await t.createUser(owner);
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
  http = await startFixtureHttpServer({ requireHeader: ["x-api-key", SECRET] });
  oauthMcp = await startFixtureHttpServer({ requireHeader: ["authorization", `Bearer ${OAUTH_ACCESS_TOKEN}`] });
  tokenServer = await startTokenServer();
  ids.http = await createServer({
    slug: "fixhttp",
    display_name: "Fixture HTTP",
    url: http.url,
    auth_type: "api_key",
    api_key_header: "X-Api-Key",
    api_key: SECRET,
    tool_deny_list: ["hidden"],
    enabled: true,
  });
  ids.stdio = await createServer({
    slug: "fixstdio",
    transport: "stdio",
    command: process.execPath,
    args: ["--import", "tsx", STDIO_SCRIPT],
    // The allow-list wins: "hidden" is on neither, "fail" is denied in vain.
    tool_allow_list: ["echo", "add", "fail"],
    tool_deny_list: ["fail"],
    enabled: true,
  });
  // The discard port: nothing listens there.
  ids.down = await createServer({ slug: "down", display_name: "Down server", url: "http://127.0.0.1:9/mcp", enabled: true });
  ids.disabled = await createServer({ slug: "off", url: "http://127.0.0.1:9/mcp", custom_headers: { "X-Token": SECRET }, auth_type: "custom_headers" });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await http?.close();
  await oauthMcp?.close();
  await tokenServer?.close();
  await mock?.close();
});
beforeEach(() => {
  mock.reset();
  turns.length = 0;
});

async function runChat(text: string, mcpServerIds: string[]): Promise<{ chatId: string; results: ChatMessagePart[]; assistantText: string }> {
  const created = await api(owner, "POST", CHATS, { content: [{ type: "text", text }], mcp_server_ids: mcpServerIds });
  expect(created.status, created.text).toBe(201);
  const chatId = field(created.body, "id");
  if (typeof chatId !== "string") throw new Error(created.text);
  const db = t.server.database.db;
  await waitFor(async () => (await reloadChat(db, chatId)).status === "waiting" && turns.length > 0, { timeoutMs: 30_000, intervalMs: 20, message: "chat finished" });
  const parts = (await liveMessages(db, chatId)).flatMap((message) => messageParts(message).map((part) => ({ role: message.role, part })));
  return {
    chatId,
    results: parts.flatMap(({ part }) => (part.type === "tool-result" ? [part] : [])),
    assistantText: parts.flatMap(({ role, part }) => (role === "assistant" && part.type === "text" ? [part.text ?? ""] : [])).join("\n"),
  };
}

describe("MCP server config routes", () => {
  it("keeps secrets out of every answer and secret-bearing fields from members", async () => {
    const adminView = await api(owner, "GET", `${SERVERS}/${ids.http}`);
    expect(field(adminView.body, "has_api_key")).toBe(true);
    expect(field(adminView.body, "api_key_header")).toBe("X-Api-Key");
    const disabled = await api(owner, "GET", `${SERVERS}/${ids.disabled}`);
    expect(field(disabled.body, "custom_header_names")).toEqual(["X-Token"]);

    const listed = await api(member, "GET", SERVERS);
    expect(listed.status).toBe(200);
    const slugs = Array.isArray(listed.body) ? listed.body.map((row) => field(row, "slug")) : [];
    expect(slugs).toEqual(["down", "fixhttp", "fixstdio"]);
    expect(listed.text).not.toContain("url");
    expect(listed.text).not.toContain("command");
    expect((await api(member, "GET", `${SERVERS}/${ids.disabled}`)).status).toBe(404);
    expect((await api(member, "POST", SERVERS, { slug: "nope", url: "http://127.0.0.1:9/" })).status).toBe(403);
    expect((await api(member, "PATCH", `${SERVERS}/${ids.http}`, { enabled: false })).status).toBe(403);
  });

  it("refuses configs whose fields do not fit together", async () => {
    const bad = [
      { slug: "Bad Slug", url: "http://127.0.0.1:9/" },
      { slug: "two__parts", url: "http://127.0.0.1:9/" },
      { slug: "nourl" },
      { slug: "stdio-url", transport: "stdio", url: "http://127.0.0.1:9/" },
      { slug: "stdio-auth", transport: "stdio", command: "true", auth_type: "api_key", api_key_header: "X-K", api_key: "k" },
      { slug: "nokey", url: "http://127.0.0.1:9/", auth_type: "api_key", api_key_header: "X-K" },
      { slug: "oauth", url: "http://127.0.0.1:9/", auth_type: "oauth2" },
    ];
    for (const body of bad) expect((await api(owner, "POST", SERVERS, body)).status, JSON.stringify(body)).toBe(400);
    expect((await api(owner, "POST", SERVERS, { slug: "fixhttp", url: "http://127.0.0.1:9/" })).status).toBe(409);
    expect((await api(owner, "PATCH", `${SERVERS}/${ids.http}`, { transport: "stdio" })).status).toBe(400);
  });

  it("validates a chat's mcp_server_ids against enabled configs", async () => {
    router = () => say("ok");
    const chat = await api(member, "POST", CHATS, { content: [{ type: "text", text: "no servers yet" }], mcp_server_ids: [] });
    expect(chat.status).toBe(201);
    const chatId = String(field(chat.body, "id"));
    const sent = await api(member, "POST", `${CHATS}/${chatId}/messages`, { content: [{ type: "text", text: "now with one" }], mcp_server_ids: [ids.stdio] });
    expect(sent.status, sent.text).toBe(200);
    expect(field((await api(member, "GET", `${CHATS}/${chatId}`)).body, "mcp_server_ids")).toEqual([ids.stdio]);
    const refused = await api(member, "POST", `${CHATS}/${chatId}/messages`, { content: [{ type: "text", text: "bad" }], mcp_server_ids: [ids.disabled] });
    expect(field(refused.body, "message")).toBe("One or more MCP server IDs are invalid.");
    // Both runs end here, so their model requests cannot land in a later test's record.
    await waitFor(
      async () => {
        const history = await api(member, "GET", `${CHATS}/${chatId}/messages`);
        const queued = field(history.body, "queued_messages");
        return (await reloadChat(t.server.database.db, chatId)).status === "waiting" && Array.isArray(queued) && queued.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 20, message: "member chat finished" },
    );

    for (const bad of [[ids.disabled], ["00000000-0000-4000-8000-000000000000"]]) {
      const created = await api(member, "POST", CHATS, { content: [{ type: "text", text: "hi" }], mcp_server_ids: bad });
      expect(created.status).toBe(400);
      expect(field(created.body, "message")).toBe("One or more MCP server IDs are invalid.");
    }
  });
});

describe("chats with MCP tools", () => {
  it("offers namespaced tools (deny-list applied), calls one with arguments and feeds the result back", async () => {
    router = (turn) => (turn.step === 0 ? calls(["fixhttp__add", { a: 2, b: 3 }]) : say("The sum is 5."));
    const { results } = await runChat("add 2 and 3", [ids.http]);
    expect(turns[0]?.tools).toEqual(expect.arrayContaining(["fixhttp__echo", "fixhttp__add", "fixhttp__fail", "fixhttp__picture"]));
    expect(turns[0]?.tools).not.toContain("fixhttp__hidden");
    expect(results).toEqual([expect.objectContaining({ tool_name: "fixhttp__add", result: { sum: 5 } })]);
    expect(turns[1]?.text).toContain("tool_result");
    expect(turns[1]?.text).toMatch(/sum\\?":\s*5/);
    // The API key reached the server in its header.
    expect(http.seenHeaders.some((headers) => headers["x-api-key"] === SECRET)).toBe(true);
  });

  it("turns error, image, resource and timed-out calls into tool results", async () => {
    router = (turn) =>
      turn.step === 0 ? calls(["fixhttp__fail", {}], ["fixhttp__picture", {}], ["fixhttp__document", {}], ["fixhttp__hang", {}]) : say("done");
    const { results } = await runChat("try everything", [ids.http]);
    const byName = new Map(results.map((part) => [part.tool_name, part]));
    expect(byName.get("fixhttp__fail")).toMatchObject({ is_error: true, result: { error: "the fixture tool failed on purpose" } });
    expect(byName.get("fixhttp__picture")?.result).toMatchObject({ mime_type: "image/png", text: "a red pixel" });
    expect(JSON.stringify(byName.get("fixhttp__document")?.result)).toContain("resource body");
    expect(byName.get("fixhttp__hang")).toMatchObject({ is_error: true });
    expect(JSON.stringify(byName.get("fixhttp__hang")?.result)).toContain("timed out");
    // The image went back to the model as an image block.
    expect(turns[1]?.text).toContain('"type":"image"');
  });

  it("uses a stdio server, allow-list winning over the deny-list", async () => {
    router = (turn) => (turn.step === 0 ? calls(["fixstdio__echo", { text: "over stdio" }]) : say("echoed"));
    const { results } = await runChat("echo over stdio", [ids.stdio]);
    const offered = (turns[0]?.tools ?? []).filter((name) => name.startsWith("fixstdio__")).sort();
    expect(offered).toEqual(["fixstdio__add", "fixstdio__echo", "fixstdio__fail"]);
    expect(results).toEqual([expect.objectContaining({ tool_name: "fixstdio__echo", result: { output: "echo: over stdio" } })]);
  });

  it("skips a server that is down, shows the notice and still finishes", async () => {
    router = () => say("answered without it");
    const { chatId, assistantText } = await runChat("use the down server", [ids.down, ids.stdio]);
    expect(turns[0]?.tools.some((name) => name.startsWith("down__"))).toBe(false);
    expect(turns[0]?.tools).toContain("fixstdio__echo");
    expect(assistantText).toContain('MCP server "Down server" is unavailable');
    expect(assistantText).toContain("answered without it");
    expect((await reloadChat(t.server.database.db, chatId)).lastError ?? null).toBeNull();
  });

  it("reconnects to a server restarted in the middle of a chat", async () => {
    const sessionsBefore = http.sessionsStarted();
    router = async (turn) => {
      if (turn.step === 0) return calls(["fixhttp__echo", { text: "before" }]);
      if (turn.step === 1) {
        // The pooled session is gone for good: the next call must reconnect.
        await http.restart();
        return calls(["fixhttp__echo", { text: "after" }]);
      }
      return say("both echoed");
    };
    const { results } = await runChat("echo twice", [ids.http]);
    expect(results.map((part) => part.result)).toEqual([{ output: "echo: before" }, { output: "echo: after" }]);
    expect(http.sessionsStarted()).toBeGreaterThan(sessionsBefore);
  });

  it("connects a user's account over OAuth 2, uses the token, and forgets it on disconnect", async () => {
    const created = await createServer({
      slug: "fixoauth",
      display_name: "OAuth fixture",
      url: oauthMcp.url,
      auth_type: "oauth2",
      oauth_client_id: "chatd-client",
      oauth_client_secret: OAUTH_CLIENT_SECRET,
      oauth_authorize_url: "https://idp.example.com/authorize",
      oauth_token_url: tokenServer.url,
      oauth_scopes: "tools",
      enabled: true,
    });
    router = () => say("no token yet");
    expect((await runChat("before connecting", [created])).assistantText).toContain("has not connected an account");

    const connect = await api(owner, "GET", `${SERVERS}/${created}/oauth2/connect`);
    expect(connect.status, connect.text).toBe(200);
    const authorize = new URL(String(field(connect.body, "authorize_url")));
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("scope")).toBe("tools");
    const state = authorize.searchParams.get("state") ?? "";
    const callback = (query: string) => api(owner, "GET", `${SERVERS}/${created}/oauth2/callback?${query}`);
    expect((await callback(`code=good-code&state=forged`)).status).toBe(400);
    // Another user cannot finish the owner's connect.
    expect((await api(member, "GET", `${SERVERS}/${created}/oauth2/callback?code=good-code&state=${encodeURIComponent(state)}`)).status).toBe(400);
    const finished = await callback(`code=good-code&state=${encodeURIComponent(state)}`);
    expect(finished.status, finished.text).toBe(200);
    expect(tokenServer.requests.at(-1)?.get("code_verifier")).toBeTruthy();
    expect(tokenServer.requests.at(-1)?.get("client_secret")).toBe(OAUTH_CLIENT_SECRET);

    router = (turn) => (turn.step === 0 ? calls(["fixoauth__echo", { text: "with a token" }]) : say("done"));
    expect((await runChat("with the token", [created])).results).toEqual([expect.objectContaining({ result: { output: "echo: with a token" } })]);
    expect(oauthMcp.seenHeaders.some((headers) => headers.authorization === `Bearer ${OAUTH_ACCESS_TOKEN}`)).toBe(true);

    // An expired token is refreshed with the stored refresh token before the run connects.
    await t.server.database.db.update(mcpServerUserTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(mcpServerUserTokens.serverId, created));
    router = (turn) => (turn.step === 0 ? calls(["fixoauth__echo", { text: "refreshed" }]) : say("done"));
    expect((await runChat("after expiry", [created])).results).toEqual([expect.objectContaining({ result: { output: "echo: refreshed" } })]);
    expect(tokenServer.requests.at(-1)?.get("grant_type")).toBe("refresh_token");

    expect((await api(owner, "POST", `${SERVERS}/${created}/oauth2/disconnect`)).status).toBe(204);
    router = () => say("token gone");
    expect((await runChat("after disconnecting", [created])).assistantText).toContain("has not connected an account");
  });

  it("never shows the header secret in a response or a log line", async () => {
    const messages = await api(owner, "GET", `${SERVERS}`);
    expect(messages.status).toBe(200);
    for (const secret of [SECRET, OAUTH_CLIENT_SECRET, OAUTH_ACCESS_TOKEN, OAUTH_REFRESH_TOKEN]) {
      for (const response of responses) expect(response.text).not.toContain(secret);
      expect(t.logs.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
