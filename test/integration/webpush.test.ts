/**
 * Web push end to end (issue 13, both databases): a real local push service (helpers/push-service.ts)
 * verifies each request's VAPID JWT and decrypts its aes128gcm payload with the subscription's
 * keys, which the test made as a browser would. Chats run on the mock LLM; its non-streamed
 * requests are the title and summary models, told apart by their system prompts.
 *
 * "No push" is asserted after the dispatcher settled the run (its onSettled fires once every send
 * for that run has ended), never after a guessed sleep.
 */
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/config/config.js";
import { startServer } from "../../src/server/server.js";
import { createChat } from "../../src/chats/state.js";
import { chats, serverSecrets, webpushSubscriptions } from "../../src/db/schema/index.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { TEST_MESSAGE, type SettledRun } from "../../src/webpush/dispatcher.js";
import { VAPID_SECRET_NAME } from "../../src/webpush/keys.js";
import { LocalPushService } from "../helpers/push-service.js";
import { apiRequester, configureAnthropicModel, field, startTestServer, validationFields, type TestServer, type TestUser } from "../helpers/server.js";
import { freshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { reloadChat } from "../helpers/chats.js";
import { deferred, waitFor, type Deferred } from "../helpers/wait.js";

/** Generous for a loaded CI machine; a push arrives in milliseconds. */
const DEADLINE_MS = 20_000;
const SUMMARY = "Fixed the flaky login test.";

const requestBody = z.object({
  system: z.unknown().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })),
});

interface Conversation {
  isChild: boolean;
  step: number;
  text: string;
}

const say = (text: string): MockTurn => ({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
const call = (id: string, name: string, input: Record<string, unknown>): MockTurn => ({
  parts: [{ type: "tool-call", id, name, input }],
  usage: { input: 1, output: 1 },
});
/** Streams for 20 s: only an interrupt ends it while the test acts. */
const SLOW_ANSWER: MockTurn = { parts: [{ type: "text", text: "partial ".repeat(2000) }], chunkDelayMs: 10, usage: { input: 1, output: 1 } };

let router: (conversation: Conversation) => MockTurn = () => say("unscripted");
let summaryTurn: () => MockTurn = () => say(SUMMARY);

function conversationOf(request: RecordedRequest): Conversation {
  const body = requestBody.parse(request.body);
  return {
    isChild: JSON.stringify(body.system ?? "").includes("delegated sub-agent"),
    step: body.messages.filter((message) => message.role === "assistant").length,
    text: JSON.stringify(body.messages),
  };
}

const isSummaryRequest = (request: RecordedRequest) => !request.stream && JSON.stringify(request.body).includes("notification telling a user");

let mock: MockLlm;
let push: LocalPushService;
let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let modelConfigId = "";
let publicKey = "";
const settledRuns = new Map<string, Deferred<SettledRun>>();

const settledDeferred = (chatId: string) => {
  let entry = settledRuns.get(chatId);
  if (!entry) {
    entry = deferred<SettledRun>();
    settledRuns.set(chatId, entry);
  }
  return entry;
};

/** The dispatcher's verdict on the chat's run, once every send for it has ended. */
async function settledRun(chatId: string): Promise<SettledRun> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no settled push decision for chat ${chatId}`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([settledDeferred(chatId).promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  mock = await startMockLlm({
    fallback: (request) => {
      if (request.stream) return router(conversationOf(request));
      return isSummaryRequest(request) ? summaryTurn() : say("A title");
    },
  });
  push = await LocalPushService.start();
  t = await startTestServer();
  t.server.services.webpush.onSettled((settled) => settledDeferred(settled.chatId).resolve(settled));
  owner = await t.createOwner();
  admin = await t.createUser(owner, ["admin"]);
  member = await t.createUser(owner);
  modelConfigId = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
  const key = await t.request("/api/experimental/webpush/vapid-public-key", { token: member.token });
  expect(key.status).toBe(200);
  publicKey = String(field(key.body, "webpush_public_key"));
});
afterAll(async () => {
  await t?.close();
  await push?.close();
  await mock?.close();
});
beforeEach(async () => {
  mock.reset();
  router = () => say("unscripted");
  summaryTurn = () => say(SUMMARY);
  await db().delete(webpushSubscriptions);
});

const db = () => t.server.database.db;

async function subscribe(user: TestUser, status = 201) {
  const subscription = push.subscribe(status);
  const response = await t.request("/api/v2/users/me/webpush/subscription", { method: "POST", token: user.token, body: subscription.json });
  expect(response.status, response.text).toBe(204);
  return subscription;
}

async function startChat(text: string) {
  // A title that is not the create-time fallback, so no title is generated mid-run.
  const { chat } = await createChat(db(), t.server.daemon.hints, {
    ownerId: owner.id,
    title: `test: ${text}`,
    modelConfigId,
    messages: [{ role: "user", parts: [{ type: "text", text }], createdBy: owner.id }],
  });
  return chat;
}

const chatUrl = (chatId: string) => `/agents/${chatId}`;

describe("the VAPID public key", () => {
  it("is a P-256 public key for any logged-in user, 401 without a login, and sealed at rest", async () => {
    expect(Buffer.from(publicKey, "base64url")).toHaveLength(65);
    expect((await t.request("/api/experimental/webpush/vapid-public-key")).status).toBe(401);
    const [row] = await db().select().from(serverSecrets).where(eq(serverSecrets.name, VAPID_SECRET_NAME));
    expect(row?.value.startsWith("v1:")).toBe(true);
    expect(row?.value).not.toContain(publicKey);
  });
});

describe("pushes when an agent finishes", () => {
  it("sends the summary to every subscription of the owner, signed with the deployment's key", async () => {
    const [first, second] = [await subscribe(owner), await subscribe(owner)];
    router = () => say("I fixed the flaky login test in auth.test.ts.\nThe retry now waits for the session.");
    const chat = await startChat("fix the flaky login test");
    const url = chatUrl(chat.id);
    await push.waitUntil(() => push.pushesTo(url).length === 2, "the push to both subscriptions");
    expect(await settledRun(chat.id)).toEqual({ chatId: chat.id, report: { delivered: 2, expired: 0, failed: 0 } });
    expect(push.rejected).toEqual([]);
    const received = push.pushesTo(url);
    expect(received.map((p) => p.endpoint).sort()).toEqual([first?.endpoint, second?.endpoint].sort());
    for (const p of received) {
      expect(p.message).toEqual({ title: "test: fix the flaky login test", body: SUMMARY, icon: "/favicon.ico", data: { url } });
      expect(p.vapidPublicKey).toBe(publicKey);
      expect(p.claims.aud).toBe(push.origin);
      expect(p.claims.sub).toMatch(/^(mailto:|https:)/);
      expect(Number(p.ttl)).toBeGreaterThan(0);
    }
    // One summary request: the title and the last answer, fenced as data.
    const summaries = mock.requests.filter(isSummaryRequest);
    expect(summaries).toHaveLength(1);
    expect(JSON.stringify(summaries[0]?.body)).toContain(
      JSON.stringify("Chat title: test: fix the flaky login test\n\nAgent's last message:\n<message>\nI fixed the flaky login test").slice(1, -1),
    );
    expect((await reloadChat(db(), chat.id)).status).toBe("waiting");
  });

  it("falls back to the answer's first line when every summary model fails", async () => {
    await subscribe(owner);
    summaryTurn = () => ({ fault: { type: "http", status: 400, message: "invalid request" } });
    router = () => say("\nFirst line of the answer.\nSecond line.");
    const chat = await startChat("answer in two lines");
    await push.waitUntil(() => push.pushesTo(chatUrl(chat.id)).length === 1, "the push");
    expect(push.pushesTo(chatUrl(chat.id))[0]?.message).toMatchObject({ body: "First line of the answer." });
    // Both candidates were tried: the cheap Anthropic model and the chat's own.
    expect(mock.requests.filter(isSummaryRequest).map((r) => r.model).sort()).toEqual(["claude-haiku-4-5", "claude-sonnet-4-5"]);
  });

  it("says the agent finished, without a model call, when the run left no answer text", async () => {
    await subscribe(owner);
    router = () => ({ parts: [], usage: { input: 1, output: 1 } });
    const chat = await startChat("answer nothing");
    await push.waitUntil(() => push.pushesTo(chatUrl(chat.id)).length === 1, "the push");
    expect(push.pushesTo(chatUrl(chat.id))[0]?.message).toMatchObject({ body: "Agent has finished running." });
    expect(mock.requests.filter(isSummaryRequest)).toEqual([]);
  });

  it("pushes the chat's last error when the run fails", async () => {
    await subscribe(owner);
    router = () => ({ fault: { type: "http", status: 400, message: "this model does not exist" } });
    const chat = await startChat("fail please");
    await push.waitUntil(() => push.pushesTo(chatUrl(chat.id)).length === 1, "the error push");
    const row = await reloadChat(db(), chat.id);
    expect(row.status).toBe("error");
    expect(row.lastError).toBeTruthy();
    expect(push.pushesTo(chatUrl(chat.id))[0]?.message).toEqual({
      title: "test: fail please",
      body: row.lastError,
      icon: "/favicon.ico",
      data: { url: chatUrl(chat.id) },
    });
    expect(mock.requests.filter(isSummaryRequest)).toEqual([]);
  });

  it("sends nothing after an interrupt", async () => {
    await subscribe(owner);
    router = () => SLOW_ANSWER;
    const chat = await startChat("stream slowly");
    await waitFor(() => t.server.daemon.hub.bufferedParts(chat.id).length > 0, { timeoutMs: DEADLINE_MS, message: "the answer streaming" });
    const interrupted = await t.request(`/api/experimental/chats/${chat.id}/interrupt`, { method: "POST", token: owner.token });
    expect(interrupted.status, interrupted.text).toBe(200);
    expect(await settledRun(chat.id)).toEqual({ chatId: chat.id, skipped: "interrupted", report: { delivered: 0, expired: 0, failed: 0 } });
    expect((await reloadChat(db(), chat.id)).status).toBe("waiting");
    expect(push.pushesTo(chatUrl(chat.id))).toEqual([]);
    expect(mock.requests.filter(isSummaryRequest)).toEqual([]);
  });

  it("sends nothing for a sub-agent; its parent's push still goes out", async () => {
    await subscribe(owner);
    router = (c) => {
      if (c.isChild) return say("child report: 42 files");
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "count the files in the src directory and report" });
      if (c.step === 1) {
        const match = /chat_id\\*"\s*:\s*\\*"([0-9a-f-]{36})/.exec(c.text);
        return call("toolu_wait", "wait_agent", { chat_id: match?.[1] ?? "missing" });
      }
      return say("The src directory has 42 files.");
    };
    const parent = await startChat("delegate counting");
    await push.waitUntil(() => push.pushesTo(chatUrl(parent.id)).length === 1, "the parent's push");
    const [child] = await db().select().from(chats).where(eq(chats.parentChatId, parent.id));
    if (!child) throw new Error("no child chat");
    expect(await settledRun(child.id)).toMatchObject({ chatId: child.id, skipped: "subagent" });
    expect(push.pushesTo(chatUrl(child.id))).toEqual([]);
    expect(push.pushesTo(chatUrl(parent.id))[0]?.message).toMatchObject({ title: "test: delegate counting", body: SUMMARY });
  });

  it("deletes a subscription the push service says is gone (410) and keeps one that failed otherwise", async () => {
    const ok = await subscribe(owner);
    const gone = await subscribe(owner, 410);
    const broken = await subscribe(owner, 500);
    router = () => say("Done.");
    const chat = await startChat("finish for three browsers");
    expect(await settledRun(chat.id)).toEqual({ chatId: chat.id, report: { delivered: 1, expired: 1, failed: 1 } });
    const rows = await db().select().from(webpushSubscriptions).where(eq(webpushSubscriptions.userId, owner.id));
    expect(rows.map((row) => row.endpoint).sort()).toEqual([ok.endpoint, broken.endpoint].sort());
    const brokenRow = rows.find((row) => row.endpoint === broken.endpoint);
    const refusals = t.logs.filter((line) => line.includes("push service refused the notification"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(String(brokenRow?.id));
    // Neither an endpoint's path (the capability to push) nor a key ever reaches the log.
    for (const subscription of [ok, gone, broken]) {
      const secretPath = new URL(subscription.endpoint).pathname;
      expect(t.logs.filter((line) => line.includes(secretPath) || line.includes(subscription.json.auth_key) || line.includes(subscription.json.p256dh_key))).toEqual([]);
    }
  });
});

describe("subscription routes", () => {
  const SUBSCRIPTION = (user: string) => `/api/v2/users/${user}/webpush/subscription`;
  const count = async () => (await db().select().from(webpushSubscriptions)).length;

  it("refuses bad bodies with 400 and stores nothing", async () => {
    const valid = push.subscribe().json;
    const offCurve = Buffer.from(valid.p256dh_key, "base64url");
    offCurve[40] = (offCurve[40] ?? 0) ^ 1;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, endpoint: "http://push.example.com/x" }, "endpoint"],
      [{ ...valid, endpoint: "/push/relative" }, "endpoint"],
      [{ ...valid, endpoint: "ftp://push.example.com/x" }, "endpoint"],
      [{ ...valid, endpoint: "https://user:pw@push.example.com/x" }, "endpoint"],
      [{ ...valid, auth_key: Buffer.alloc(15).toString("base64url") }, "auth_key"],
      [{ ...valid, auth_key: "not base64url!" }, "auth_key"],
      [{ ...valid, p256dh_key: Buffer.alloc(64, 4).toString("base64url") }, "p256dh_key"],
      [{ ...valid, p256dh_key: offCurve.toString("base64url") }, "p256dh_key"],
      [{ endpoint: valid.endpoint }, "auth_key"],
    ];
    for (const [body, fieldName] of cases) {
      const response = await t.request(SUBSCRIPTION("me"), { method: "POST", token: owner.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(field(response.body, "message")).toBe("Validation failed.");
      expect(validationFields(response.body)).toContain(fieldName);
    }
    expect(await count()).toBe(0);
  });

  it("subscribes by me, id or username, replaces keys on re-subscribe, and unsubscribes (404 when unknown)", async () => {
    const browser = push.subscribe();
    for (const ref of ["me", owner.id, owner.username]) {
      expect((await t.request(SUBSCRIPTION(ref), { method: "POST", token: owner.token, body: browser.json })).status).toBe(204);
    }
    const renewed = { ...browser.json, auth_key: Buffer.alloc(16, 7).toString("base64url") };
    expect((await t.request(SUBSCRIPTION("me"), { method: "POST", token: owner.token, body: renewed })).status).toBe(204);
    const rows = await db().select().from(webpushSubscriptions);
    expect(rows.map((row) => [row.userId, row.endpoint, row.authKey])).toEqual([[owner.id, browser.endpoint, renewed.auth_key]]);

    expect((await t.request(SUBSCRIPTION("me"), { method: "DELETE", token: owner.token, body: { endpoint: `${push.origin}/push/unknown` } })).status).toBe(404);
    expect((await t.request(SUBSCRIPTION("me"), { method: "DELETE", token: owner.token, body: {} })).status).toBe(400);
    expect((await t.request(SUBSCRIPTION("me"), { method: "DELETE", token: owner.token, body: { endpoint: browser.endpoint } })).status).toBe(204);
    expect(await count()).toBe(0);
  });

  it("is the user's own: another member gets 404, an admin or owner 403, and nothing changes", async () => {
    const memberBrowser = await subscribe(member);
    const other = push.subscribe().json;
    expect((await t.request(SUBSCRIPTION(owner.id), { method: "POST", token: member.token, body: other })).status).toBe(404);
    expect((await t.request(SUBSCRIPTION(member.id), { method: "POST", token: admin.token, body: other })).status).toBe(403);
    expect((await t.request(SUBSCRIPTION(member.username), { method: "POST", token: owner.token, body: other })).status).toBe(403);
    expect((await t.request(SUBSCRIPTION(member.id), { method: "DELETE", token: admin.token, body: { endpoint: memberBrowser.endpoint } })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${member.id}/webpush/test`, { method: "POST", token: owner.token })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${owner.id}/webpush/test`, { method: "POST", token: member.token })).status).toBe(404);
    const rows = await db().select().from(webpushSubscriptions);
    expect(rows.map((row) => [row.userId, row.endpoint])).toEqual([[member.id, memberBrowser.endpoint]]);
  });

  it("sends a test notification to each of the user's browsers (502 when one cannot be reached)", async () => {
    const browser = await subscribe(member);
    const sent = await t.request("/api/v2/users/me/webpush/test", { method: "POST", token: member.token });
    expect(sent.status, sent.text).toBe(204);
    const received = push.received.filter((p) => p.endpoint === browser.endpoint);
    expect(received.map((p) => p.message)).toEqual([TEST_MESSAGE]);
    await subscribe(member, 500);
    const failed = await t.request("/api/v2/users/me/webpush/test", { method: "POST", token: member.token });
    expect(failed.status).toBe(502);
    expect(field(failed.body, "message")).toBe("Failed to send the test notification.");
  });
});

describe("the key pair across restarts and replicas", () => {
  it("survives a restart on the same database", async () => {
    const database = await freshDatabase();
    const start = () =>
      startServer(
        loadConfig({ listen: "127.0.0.1:0", "data-dir": database.location.dataDir, "database-url": database.location.databaseUrl, "log-level": "warn" }, {}),
        { logDestination: { write: () => undefined }, webDir: path.join(database.location.dataDir, "no-web-ui"), env: {} },
      );
    let first = await start();
    try {
      const firstKey = first.services.webpush.publicKey;
      await first.close();
      first = await start();
      expect(first.services.webpush.publicKey).toBe(firstKey);
      // The route serves it too (a session made before the restart still works).
      const request = apiRequester(first.url);
      const created = await request("/api/v2/users/first", { method: "POST", body: { username: "restart", email: "restart@example.com", password: "password-restart-1" } });
      expect(created.status).toBe(201);
      const login = await request("/api/v2/users/login", { method: "POST", body: { email: "restart", password: "password-restart-1" } });
      const key = await request("/api/experimental/webpush/vapid-public-key", { token: String(field(login.body, "session_token")) });
      expect(field(key.body, "webpush_public_key")).toBe(firstKey);
    } finally {
      await first.close();
      await database.destroy();
    }
  });

  it.skipIf(testDatabaseKind() !== "postgres")("is the same on two replicas started together (PostgreSQL)", async () => {
    const database = await freshDatabase();
    const replicas = await Promise.all([startTestServer({ database }), startTestServer({ database })]);
    try {
      const [a, b] = replicas.map((replica) => replica.server.services.webpush.publicKey);
      expect(a).toBe(b);
      expect(await (replicas[0]?.server.database.db ?? db()).select().from(serverSecrets).where(eq(serverSecrets.name, VAPID_SECRET_NAME))).toHaveLength(1);
    } finally {
      for (const replica of replicas) await replica.server.close();
      await database.destroy();
    }
  });
});
