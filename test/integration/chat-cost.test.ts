/**
 * Cost reports and usage limits on the real server (both databases), with the mock provider
 * speaking Anthropic's and OpenAI's wire formats so the usage the AI SDK reports is priced as a
 * real step would be: behavior.md section 7's examples to the micro-dollar, cache tokens at the
 * cache rates, unpriced models, deleted configs keeping history, date windows, sub-agent trees
 * rolled up to their root, the admin rollup, and every usage-limit route and answer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, asc, eq } from "drizzle-orm";
import { chatMessages, chats } from "../../src/db/schema/index.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";
import { periodBounds } from "../../src/cost/periods.js";

const CHATS = "/api/experimental/chats";

let mock: MockLlm;
let t: TestServer;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
/** Model config ids by name. */
const models: Record<string, string> = {};
/** Usage of the next streamed turn; title requests (not streamed) always get a plain title. */
let nextTurns: MockTurn[] = [];

const answer = (usage: MockTurn["usage"]): MockTurn => ({ parts: [{ type: "text", text: "done" }], usage });

async function must(user: TestUser, method: string, path: string, body: unknown, status: number): Promise<unknown> {
  const response = await t.request(path, { method, token: user.token, body });
  if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
  return response.body;
}

async function modelConfig(provider: string, model: string, cost: Record<string, number> | undefined): Promise<string> {
  const body = await must(owner, "POST", `${CHATS}/model-configs`, { provider, model, context_limit: 200_000, ...(cost ? { model_config: { cost } } : {}) }, 201);
  return String(field(body, "id"));
}

beforeAll(async () => {
  mock = await startMockLlm({
    fallback: (request: RecordedRequest) => (request.stream ? (nextTurns.shift() ?? answer({ input: 1, output: 1 })) : { parts: [{ type: "text", text: "A title" }] }),
  });
  t = await startTestServer();
  owner = await t.createOwner();
  alice = await t.createUser(owner, ["member"], "alice");
  bob = await t.createUser(owner, ["member"], "bob");
  await must(owner, "POST", `${CHATS}/providers`, { provider: "anthropic", api_key: "sk-ant-test", base_url: mock.baseUrls.anthropic }, 201);
  await must(owner, "POST", `${CHATS}/providers`, { provider: "openai", api_key: "sk-openai-test", base_url: mock.baseUrls.openai }, 201);
  models.mixed = await modelConfig("anthropic", "claude-sonnet-4-5", {
    input_price_per_million_tokens: 1.23,
    output_price_per_million_tokens: 4.56,
    cache_read_price_per_million_tokens: 0.7,
    cache_write_price_per_million_tokens: 7.89,
  });
  models.openai = await modelConfig("openai", "gpt-5", {
    input_price_per_million_tokens: 3,
    output_price_per_million_tokens: 15,
    cache_read_price_per_million_tokens: 0.3,
  });
  models.unpriced = await modelConfig("anthropic", "claude-haiku-4-5", undefined);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await mock?.close();
});
beforeEach(async () => {
  mock.reset();
  nextTurns = [];
  await must(owner, "PUT", `${CHATS}/usage-limits`, { spend_limit_micros: null }, 200);
});

async function settled(chatId: string) {
  await waitFor(async () => ["waiting", "error"].includes((await reloadChat(t.server.database.db, chatId)).status), {
    timeoutMs: 20_000,
    intervalMs: 10,
    message: `chat ${chatId} settles`,
  });
}

/** A chat of `user` on `model` whose one step reports `usage`; resolves when the step is stored. */
async function chatWithStep(user: TestUser, model: string, usage: MockTurn["usage"], text = "price this step"): Promise<string> {
  nextTurns.push(answer(usage));
  const chatId = String(field(await must(user, "POST", CHATS, { content: [{ type: "text", text }], model_config_id: model }, 201), "id"));
  await settled(chatId);
  return chatId;
}

async function stepCost(chatId: string): Promise<number | null> {
  const rows = await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId));
  const assistant = rows.filter((row) => row.role === "assistant");
  expect(assistant).toHaveLength(1);
  return assistant[0]?.totalCostMicros ?? null;
}

const summary = async (user: TestUser, ref = "me", query = "") => must(user, "GET", `${CHATS}/cost/${ref}/summary${query}`, undefined, 200);

describe("cost of a step", () => {
  it("prices Anthropic's input, output, cache read and cache write tokens exactly (behavior.md: 2005)", async () => {
    const chatId = await chatWithStep(alice, models.mixed ?? "", { input: 101, output: 201, cacheRead: 1005, cacheWrite: 33 });
    expect(await stepCost(chatId)).toBe(2005);
    const chat = await must(alice, "GET", `${CHATS}/${chatId}`, undefined, 200);
    expect(field(chat, "tree_cost_micros")).toBe(2005);
  });

  it("prices OpenAI's cached input at the cache-read rate: 1000 cached @0.3 + 500 output @15 + 1000 input @3", async () => {
    const chatId = await chatWithStep(alice, models.openai ?? "", { input: 1000, output: 500, cacheRead: 1000 });
    // 1000×3 + 500×15 + 1000×0.3 = 3000 + 7500 + 300.
    expect(await stepCost(chatId)).toBe(10_800);
  });

  it("leaves a model without prices unpriced (NULL), counted as such in the summary", async () => {
    const chatId = await chatWithStep(bob, models.unpriced ?? "", { input: 50, output: 5 });
    expect(await stepCost(chatId)).toBeNull();
    const body = await summary(bob);
    expect(field(body, "unpriced_message_count")).toBe(1);
    expect(field(body, "priced_message_count")).toBe(0);
    expect(field(body, "total_cost_micros")).toBe(0);
    expect(field(body, "total_input_tokens")).toBe(50);
  });
});

describe("cost summary", () => {
  let member: TestUser;
  beforeAll(async () => {
    member = await t.createUser(owner, ["member"], "carol");
  });

  it("totals, by model and by chat tree, with sub-agent cost counted toward its root", async () => {
    const first = await chatWithStep(member, models.mixed ?? "", { input: 101, output: 201, cacheRead: 1005, cacheWrite: 33 }, "first chat");
    const second = await chatWithStep(member, models.openai ?? "", { input: 1000, output: 500, cacheRead: 1000 }, "second chat");
    // A sub-agent of `first`: its own chat row, priced, rooted at `first`.
    const child = await insertChild(member, first, models.openai ?? "", 7_500);
    const body = await summary(member);
    expect(body).toMatchObject({
      total_cost_micros: 2005 + 10_800 + 7_500,
      priced_message_count: 3,
      unpriced_message_count: 0,
      total_input_tokens: 101 + 1000 + 10,
      total_output_tokens: 201 + 500 + 10,
      total_cache_read_tokens: 1005 + 1000,
      total_cache_creation_tokens: 33,
    });
    expect(field(body, "by_model")).toEqual([
      expect.objectContaining({ model_config_id: models.openai, model: "gpt-5", provider: "openai", total_cost_micros: 18_300, message_count: 2 }),
      expect.objectContaining({ model_config_id: models.mixed, model: "claude-sonnet-4-5", total_cost_micros: 2005, message_count: 1, total_cache_creation_tokens: 33 }),
    ]);
    expect(field(body, "by_chat")).toEqual([
      expect.objectContaining({ root_chat_id: second, total_cost_micros: 10_800, message_count: 1 }),
      expect.objectContaining({ root_chat_id: first, total_cost_micros: 2005 + 7_500, message_count: 2 }),
    ]);
    expect(field(body, "usage_limit")).toBeUndefined();
    // The tree total on the chat itself.
    expect(field(await must(member, "GET", `${CHATS}/${first}`, undefined, 200), "tree_cost_micros")).toBe(2005 + 7_500);
    expect(field(await must(member, "GET", `${CHATS}/${child}`, undefined, 200), "tree_cost_micros")).toBe(7_500);
  });

  it("keeps the history of a deleted model config", async () => {
    const doomed = await modelConfig("anthropic", "claude-doomed-1", { output_price_per_million_tokens: 15 });
    const user = await t.createUser(owner, ["member"], "dora");
    await chatWithStep(user, doomed, { input: 0, output: 500 });
    const window = `?start_date=${new Date(Date.now() - 3_600_000).toISOString()}&end_date=${new Date(Date.now() + 3_600_000).toISOString()}`;
    const before = await summary(user, "me", window);
    await must(owner, "DELETE", `${CHATS}/model-configs/${doomed}`, undefined, 204);
    const after = await summary(user, "me", window);
    expect(after).toEqual(before);
    expect(field(after, "by_model")).toEqual([expect.objectContaining({ model_config_id: doomed, model: "claude-doomed-1", total_cost_micros: 7500 })]);
  });

  it("reads the window [start_date, end_date) and refuses a bad one", async () => {
    const user = await t.createUser(owner, ["member"], "erin");
    const chatId = await chatWithStep(user, models.openai ?? "", { input: 1000, output: 0 });
    // Move the step to a known instant.
    await t.server.database.db.update(chatMessages).set({ createdAt: new Date("2026-03-10T12:00:00Z") }).where(eq(chatMessages.chatId, chatId));
    const cost = async (query: string) => field(await summary(user, "me", query), "total_cost_micros");
    expect(await cost("?start_date=2026-03-10T12:00:00Z&end_date=2026-03-11T00:00:00Z")).toBe(3000);
    expect(await cost("?start_date=2026-03-01T00:00:00Z&end_date=2026-03-10T12:00:00Z")).toBe(0);
    // The default window is the last 30 days, which no longer holds March.
    expect(await cost("")).toBe(0);
    for (const query of ["?start_date=yesterday", "?end_date=2026-03-10", "?start_date=2026-03-11T00:00:00Z&end_date=2026-03-10T00:00:00Z", "?since=2026-01-01T00:00:00Z"]) {
      const response = await t.request(`${CHATS}/cost/me/summary${query}`, { token: user.token });
      expect(response.status, query).toBe(400);
    }
  });

  it("lets an admin read anyone's summary, hides other users from members (404) and answers 404 for nobody", async () => {
    expect(field(await summary(owner, alice.id), "total_cost_micros")).toBe(2005 + 10_800);
    expect(field(await summary(owner, "alice"), "total_cost_micros")).toBe(2005 + 10_800);
    expect((await t.request(`${CHATS}/cost/${alice.id}/summary`, { token: bob.token })).status).toBe(404);
    expect((await t.request(`${CHATS}/cost/nobody-at-all/summary`, { token: owner.token })).status).toBe(404);
  });
});

describe("admin cost rollup", () => {
  it("lists users with usage, most expensive first, with search and paging; members get 403", async () => {
    const all = await must(owner, "GET", `${CHATS}/cost/users?limit=100`, undefined, 200);
    const users = field(all, "users");
    if (!Array.isArray(users)) throw new Error("no users");
    const costs = users.map((row) => Number(field(row, "total_cost_micros")));
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    expect(field(all, "count")).toBe(users.length);
    const aliceRow = users.find((row) => field(row, "user_id") === alice.id);
    expect(aliceRow).toMatchObject({ username: "alice", total_cost_micros: 2005 + 10_800, message_count: 2, chat_count: 2, total_cache_read_tokens: 2005 });
    const searched = await must(owner, "GET", `${CHATS}/cost/users?username=ALI`, undefined, 200);
    expect(field(searched, "users")).toEqual([expect.objectContaining({ user_id: alice.id })]);
    const page = await must(owner, "GET", `${CHATS}/cost/users?limit=1&offset=1`, undefined, 200);
    expect(field(page, "users")).toEqual([users[1]]);
    expect(field(page, "count")).toBe(users.length);
    expect((await t.request(`${CHATS}/cost/users`, { token: alice.token })).status).toBe(403);
    expect((await t.request(`${CHATS}/cost/users?limit=1000`, { token: owner.token })).status).toBe(400);
    expect((await t.request(`${CHATS}/cost/users?bogus=1`, { token: owner.token })).status).toBe(400);
  });
});

/** A sub-agent chat of `root` with one priced assistant step, written directly. */
async function insertChild(user: TestUser, root: string, model: string, costMicros: number): Promise<string> {
  const db = t.server.database.db;
  const [child] = await db
    .insert(chats)
    .values({ ownerId: user.id, title: "child", lastModelConfigId: model, parentChatId: root, rootChatId: root })
    .returning({ id: chats.id });
  if (!child) throw new Error("no child");
  await db.insert(chatMessages).values({
    chatId: child.id,
    role: "assistant",
    content: [],
    contentVersion: 1,
    modelConfigId: model,
    inputTokens: 10,
    outputTokens: 10,
    totalCostMicros: costMicros,
  });
  return child.id;
}

describe("usage limits", () => {
  const limits = `${CHATS}/usage-limits`;

  it("GET/PUT the default: null disables, > 0 and a valid period enable, bad input changes nothing", async () => {
    const initial = await must(owner, "GET", limits, undefined, 200);
    expect(initial).toMatchObject({ spend_limit_micros: null, period: "month", overrides: [], group_overrides: [] });
    // Exactly one enabled model has no prices.
    expect(field(initial, "unpriced_model_count")).toBe(1);
    expect(await must(owner, "PUT", limits, { spend_limit_micros: 5_000_000, period: "week" }, 200)).toMatchObject({ spend_limit_micros: 5_000_000, period: "week" });
    for (const body of [{ spend_limit_micros: 0, period: "week" }, { spend_limit_micros: -5, period: "day" }, { spend_limit_micros: 10, period: "year" }, { spend_limit_micros: 1.5 }, { limit: 3 }]) {
      const response = await t.request(limits, { method: "PUT", token: owner.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect(await must(owner, "GET", limits, undefined, 200)).toMatchObject({ spend_limit_micros: 5_000_000, period: "week" });
    expect((await t.request(limits, { token: alice.token })).status).toBe(403);
    expect((await t.request(limits, { method: "PUT", token: alice.token, body: { spend_limit_micros: null } })).status).toBe(403);
    expect(await must(owner, "PUT", limits, { spend_limit_micros: null }, 200)).toMatchObject({ spend_limit_micros: null, period: "month" });
  });

  it("reports the caller's status: disabled, then limited with the current period and spend", async () => {
    expect(await must(alice, "GET", `${limits}/status`, undefined, 200)).toEqual({ is_limited: false, current_spend: 0 });
    await must(owner, "PUT", limits, { spend_limit_micros: 1_000_000, period: "day" }, 200);
    const bounds = periodBounds("day", new Date());
    expect(await must(alice, "GET", `${limits}/status`, undefined, 200)).toEqual({
      is_limited: true,
      period: "day",
      spend_limit_micros: 1_000_000,
      current_spend: 2005 + 10_800,
      period_start: bounds.start.toISOString(),
      period_end: bounds.end.toISOString(),
    });
    const withLimit = await summary(alice);
    expect(field(field(withLimit, "usage_limit"), "current_spend")).toBe(2005 + 10_800);
  });

  it("blocks create, send and edit at the limit with the 409 body; promote is not blocked; overrides win", async () => {
    const user = await t.createUser(owner, ["member"], "frank");
    const chatId = await chatWithStep(user, models.openai ?? "", { input: 1000, output: 0 });
    // A slow second run, and a message queued behind it.
    nextTurns.push({ parts: [{ type: "text", text: "slow ".repeat(400) }], chunkDelayMs: 5, usage: { input: 1, output: 1 } });
    await must(user, "POST", `${CHATS}/${chatId}/messages`, { content: [{ type: "text", text: "run again" }] }, 200);
    const queued = await must(user, "POST", `${CHATS}/${chatId}/messages`, { content: [{ type: "text", text: "queued" }] }, 200);
    expect(field(queued, "queued")).toBe(true);

    // The limit: 3000 micro-dollars a month, which frank has spent.
    await must(owner, "PUT", limits, { spend_limit_micros: 3000, period: "month" }, 200);
    // Promote ("send now") is never blocked by the limit.
    const promoted = await t.request(`${CHATS}/${chatId}/queue/${String(field(field(queued, "queued_message"), "id"))}/promote`, { method: "POST", token: user.token });
    expect(promoted.status).toBe(200);
    await settled(chatId);

    const spent = Number(field(await must(user, "GET", `${limits}/status`, undefined, 200), "current_spend"));
    expect(spent).toBeGreaterThanOrEqual(3000);
    const expected = { message: "Chat usage limit exceeded.", spent_micros: spent, limit_micros: 3000, resets_at: periodBounds("month", new Date()).end.toISOString() };
    const created = await t.request(CHATS, { method: "POST", token: user.token, body: { content: [{ type: "text", text: "more" }] } });
    expect([created.status, created.body]).toEqual([409, expected]);
    const sent = await t.request(`${CHATS}/${chatId}/messages`, { method: "POST", token: user.token, body: { content: [{ type: "text", text: "more" }] } });
    expect([sent.status, sent.body]).toEqual([409, expected]);
    const [firstUser] = await t.server.database.db
      .select({ id: chatMessages.id })
      .from(chatMessages)
      .where(and(eq(chatMessages.chatId, chatId), eq(chatMessages.role, "user")))
      .orderBy(asc(chatMessages.id))
      .limit(1);
    const messageCount = (await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId))).length;
    const edited = await t.request(`${CHATS}/${chatId}/messages/${String(firstUser?.id)}`, { method: "PATCH", token: user.token, body: { content: [{ type: "text", text: "edited" }] } });
    expect([edited.status, edited.body]).toEqual([409, expected]);
    // Nothing was written by the refused requests.
    expect((await t.server.database.db.select().from(chats).where(eq(chats.ownerId, user.id))).length).toBe(1);
    expect((await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId))).length).toBe(messageCount);

    // A group override above the spend lets frank through; the highest of his groups wins.
    const low = String(field(await must(owner, "POST", "/api/v2/groups", { name: "cost-low" }, 201), "id"));
    const high = String(field(await must(owner, "POST", "/api/v2/groups", { name: "cost-high" }, 201), "id"));
    for (const group of [low, high]) await must(owner, "POST", `/api/v2/groups/${group}/members`, { user_id: user.id }, 201);
    await must(owner, "PUT", `${limits}/group-overrides/${low}`, { spend_limit_micros: 1000 }, 200);
    expect(await must(owner, "PUT", `${limits}/group-overrides/cost-high`, { spend_limit_micros: 1_000_000_000 }, 200)).toEqual({
      group_id: high,
      group_name: "cost-high",
      display_name: "",
      member_count: 1,
      spend_limit_micros: 1_000_000_000,
    });
    expect(field(await must(user, "GET", `${limits}/status`, undefined, 200), "spend_limit_micros")).toBe(1_000_000_000);
    expect((await t.request(CHATS, { method: "POST", token: user.token, body: { content: [{ type: "text", text: "allowed by the group" }] } })).status).toBe(201);

    // The user's own override wins over every group, even when lower.
    expect(await must(owner, "PUT", `${limits}/overrides/${user.id}`, { spend_limit_micros: 100 }, 200)).toEqual({
      user_id: user.id,
      username: user.username,
      name: "",
      spend_limit_micros: 100,
    });
    expect((await t.request(CHATS, { method: "POST", token: user.token, body: { content: [{ type: "text", text: "blocked by own" }] } })).status).toBe(409);
    const config = await must(owner, "GET", limits, undefined, 200);
    expect(field(config, "overrides")).toEqual([{ user_id: user.id, username: user.username, name: "", spend_limit_micros: 100 }]);
    expect(field(config, "group_overrides")).toEqual([
      expect.objectContaining({ group_id: high, spend_limit_micros: 1_000_000_000 }),
      expect.objectContaining({ group_id: low, spend_limit_micros: 1000 }),
    ]);

    // Removing overrides: 204, then the documented 400 for one that is gone; 404 for nobody.
    await must(owner, "DELETE", `${limits}/overrides/${user.id}`, undefined, 204);
    expect(await t.request(`${limits}/overrides/${user.id}`, { method: "DELETE", token: owner.token })).toMatchObject({ status: 400, body: { message: "Chat usage limit override not found." } });
    await must(owner, "DELETE", `${limits}/group-overrides/${high}`, undefined, 204);
    expect(await t.request(`${limits}/group-overrides/${high}`, { method: "DELETE", token: owner.token })).toMatchObject({ status: 400, body: { message: "Chat usage limit group override not found." } });
    expect(await t.request(`${limits}/overrides/nobody-here`, { method: "PUT", token: owner.token, body: { spend_limit_micros: 5 } })).toMatchObject({ status: 404, body: { message: "User not found." } });
    expect(await t.request(`${limits}/group-overrides/no-such-group`, { method: "PUT", token: owner.token, body: { spend_limit_micros: 5 } })).toMatchObject({ status: 404, body: { message: "Group not found." } });
    expect(await t.request(`${limits}/overrides/${user.id}`, { method: "PUT", token: owner.token, body: { spend_limit_micros: 0 } })).toMatchObject({ status: 400, body: { message: "Spend limit must be greater than 0." } });
    expect((await t.request(`${limits}/overrides/${user.id}`, { method: "PUT", token: alice.token, body: { spend_limit_micros: 5 } })).status).toBe(403);
    // Back under the low group's 1000 only: blocked again.
    expect((await t.request(CHATS, { method: "POST", token: user.token, body: { content: [{ type: "text", text: "blocked by group" }] } })).status).toBe(409);
  });
});
