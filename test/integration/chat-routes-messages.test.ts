/**
 * A chat's messages and queue through the real server: history pages, send (queued while busy,
 * FIFO, 20 at most), promote, delete, edit, and the 404s another member gets.
 *
 * The server's chat worker picks up pending chats. The provider points at a local server that
 * accepts connections and never answers, so a run stays `running` and writes nothing. Chats whose
 * status a test depends on are seeded directly, idle or `running` under a stand-in worker, so the
 * only runs are the ones a route's transition starts.
 */
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatMessages, chats } from "../../src/db/schema/index.js";
import { CONTENT_VERSION, encodeParts } from "../../src/chats/parts.js";
import { startChatRouteWorld, type ChatRouteWorld } from "../helpers/chat-routes.js";
import { field, type ApiResponse, type TestServer, type TestUser } from "../helpers/server.js";

const CHATS = "/api/experimental/chats";
const UNKNOWN = "9b2f3c4d-1111-4222-8333-444455556666";
/** The worker id of seeded running chats: no real worker holds them, so none changes them. */
const STAND_IN_WORKER = "5d6e7f80-aaaa-4bbb-8ccc-ddddeeeeffff";

let world: ChatRouteWorld;
let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let defaultConfigId = "";
let secondConfigId = "";

beforeAll(async () => {
  world = await startChatRouteWorld();
  ({ t, owner, admin, alice, bob } = world);
  defaultConfigId = await world.addModelConfig("claude-default");
  secondConfigId = await world.addModelConfig("claude-second");
});
afterAll(async () => {
  await world.close();
});

const text = (value: string) => [{ type: "text", text: value }];
const message = (response: ApiResponse) => field(response.body, "message");
const detail = (response: ApiResponse) => field(response.body, "detail");
const array = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const messagesOf = (response: ApiResponse) => array(field(response.body, "messages"));
const queuedOf = (response: ApiResponse) => array(field(response.body, "queued_messages"));
const textOf = (item: unknown) => field(array(field(item, "content"))[0], "text");

async function newChat(user: TestUser, words = "first"): Promise<string> {
  const response = await t.request(CHATS, { method: "POST", token: user.token, body: { content: text(words) } });
  expect(response.status, response.text).toBe(201);
  return String(field(response.body, "id"));
}
const send = (chatId: string, body: Record<string, unknown>, user = alice) =>
  t.request(`${CHATS}/${chatId}/messages`, { method: "POST", token: user.token, body });
const history = (chatId: string, query = "", user = alice) => t.request(`${CHATS}/${chatId}/messages${query}`, { token: user.token });
const statusOf = async (chatId: string) => field((await t.request(`${CHATS}/${chatId}`, { token: alice.token })).body, "status");

/**
 * A chat straight in the database: a system message, then one user message per text, either idle
 * (`waiting`) or busy (`running` under the stand-in worker).
 */
async function seedChat(user: TestUser, status: "waiting" | "running", userTexts: readonly string[] = ["first"]): Promise<string> {
  const db = t.server.database.db;
  const now = new Date();
  const [chat] = await db
    .insert(chats)
    .values({
      ownerId: user.id,
      title: "seeded",
      lastModelConfigId: defaultConfigId,
      status,
      ...(status === "running" ? { workerId: STAND_IN_WORKER, startedAt: now, heartbeatAt: now } : {}),
    })
    .returning({ id: chats.id });
  const chatId = chat?.id ?? "";
  const stored = (value: string) => encodeParts([{ type: "text", text: value }]);
  await db.insert(chatMessages).values([
    { chatId, role: "system", content: stored("system prompt"), contentVersion: CONTENT_VERSION, visibility: "model" },
    ...userTexts.map((value) => ({ chatId, role: "user" as const, content: stored(value), contentVersion: CONTENT_VERSION, createdBy: user.id, modelConfigId: defaultConfigId })),
  ]);
  return chatId;
}

describe("history", () => {
  it("shows a new chat's user message only: the system prompt and workspace note are for the model", async () => {
    const chatId = await newChat(alice, "hello model");
    const response = await history(chatId);
    expect(response.status).toBe(200);
    expect(messagesOf(response)).toEqual([
      { id: expect.any(Number), chat_id: chatId, created_by: alice.id, model_config_id: defaultConfigId, created_at: expect.any(String), role: "user", content: text("hello model") },
    ]);
    expect(field(response.body, "has_more")).toBe(false);
    expect(queuedOf(response)).toEqual([]);
  });

  it("pages newest first by before_id, with the queue on the first page only", async () => {
    const chatId = await seedChat(alice, "running", ["m1", "m2", "m3", "m4", "m5"]);
    expect(field((await send(chatId, { content: text("waiting in line") })).body, "queued")).toBe(true);
    const first = await history(chatId, "?limit=2");
    expect(messagesOf(first).map(textOf)).toEqual(["m5", "m4"]);
    expect(field(first.body, "has_more")).toBe(true);
    expect(queuedOf(first).map(textOf)).toEqual(["waiting in line"]);
    const oldest = field(messagesOf(first)[1], "id");
    const second = await history(chatId, `?limit=2&before_id=${String(oldest)}`);
    expect(messagesOf(second).map(textOf)).toEqual(["m3", "m2"]);
    expect(field(second.body, "has_more")).toBe(true);
    expect(queuedOf(second)).toEqual([]);
    const last = await history(chatId, `?limit=2&before_id=${String(field(messagesOf(second)[1], "id"))}`);
    expect(messagesOf(last).map(textOf)).toEqual(["m1"]);
    expect(field(last.body, "has_more")).toBe(false);
    expect(messagesOf(await history(chatId)).length).toBe(5);
  });

  it("refuses bad limits and cursors", async () => {
    const chatId = await newChat(alice);
    for (const query of ["?limit=0", "?limit=201", "?limit=x", "?limit=1.5"]) {
      const response = await history(chatId, query);
      expect([response.status, message(response)], query).toEqual([400, "Invalid limit parameter (1-200)."]);
    }
    for (const query of ["?before_id=0", "?before_id=-3", "?before_id=x"]) {
      expect((await history(chatId, query)).status, query).toBe(400);
    }
    expect((await history(chatId, "?limit=200")).status).toBe(200);
  });
});

describe("send", () => {
  it("inserts into an idle chat and makes it pending, with the chosen or the chat's model", async () => {
    const chatId = await seedChat(alice, "waiting");
    const sent = await send(chatId, { content: text("next step") });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({
      queued: false,
      message: { id: expect.any(Number), chat_id: chatId, created_by: alice.id, model_config_id: defaultConfigId, created_at: expect.any(String), role: "user", content: text("next step") },
    });
    expect(["pending", "running"]).toContain(await statusOf(chatId));
    const other = await seedChat(alice, "waiting");
    const chosen = await send(other, { content: text("with the other model"), model_config_id: secondConfigId });
    expect(field(field(chosen.body, "message"), "model_config_id")).toBe(secondConfigId);
    expect(field((await t.request(`${CHATS}/${other}`, { token: alice.token })).body, "last_model_config_id")).toBe(secondConfigId);
  });

  it("queues to a busy chat, FIFO, and refuses the 21st with 429", async () => {
    const chatId = await seedChat(alice, "running");
    for (let i = 1; i <= 20; i++) {
      const response = await send(chatId, { content: text(`q${i}`) });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        queued: true,
        queued_message: { id: expect.any(Number), chat_id: chatId, content: text(`q${i}`), created_at: expect.any(String) },
      });
    }
    const full = await send(chatId, { content: text("one too many") });
    expect([full.status, message(full), detail(full)]).toEqual([429, "Message queue is full.", "Maximum 20 messages can be queued."]);
    const queued = queuedOf(await history(chatId));
    expect(queued.map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `q${i + 1}`));
    const ids = queued.map((item) => Number(field(item, "id")));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("validates content, model and MCP ids, changing nothing", async () => {
    const chatId = await newChat(alice);
    const cases: Array<[Record<string, unknown>, string, string | undefined]> = [
      [{ content: [] }, "Content is required.", "Content cannot be empty."],
      [{ content: [{ type: "text", text: " " }] }, "Invalid input part.", "content[0].text cannot be empty."],
      [{ content: [{ type: "video" }] }, "Invalid input part.", 'content[0].type "video" is not supported.'],
      [{ content: text("x"), model_config_id: "00000000-0000-0000-0000-000000000000" }, "Invalid model config ID.", undefined],
      [{ content: text("x"), model_config_id: UNKNOWN }, "Invalid model config ID.", `No chat model config with ID ${UNKNOWN} exists.`],
      [{ content: text("x"), mcp_server_ids: [UNKNOWN] }, "One or more MCP server IDs are invalid.", `Invalid IDs: ${UNKNOWN}`],
    ];
    for (const [body, expectedMessage, expectedDetail] of cases) {
      const response = await send(chatId, body);
      expect([response.status, message(response), detail(response)], JSON.stringify(body)).toEqual([400, expectedMessage, expectedDetail]);
    }
    const after = await history(chatId);
    expect([messagesOf(after).length, queuedOf(after).length]).toEqual([1, 0]);
  });
});

describe("queue", () => {
  let chatId = "";
  let queuedIds: number[] = [];

  beforeAll(async () => {
    chatId = await seedChat(alice, "running", ["original"]);
    for (const words of ["a", "b", "c"]) queuedIds.push(Number(field(field((await send(chatId, { content: text(words) })).body, "queued_message"), "id")));
  });

  it("promotes a queued message into history now, out of order if asked; unknown ids are 404", async () => {
    const promoted = await t.request(`${CHATS}/${chatId}/queue/${queuedIds[1]}/promote`, { method: "POST", token: alice.token });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ chat_id: chatId, role: "user", created_by: alice.id, content: text("b") });
    const after = await history(chatId);
    expect(messagesOf(after).map(textOf)).toEqual(["b", "original"]);
    expect(queuedOf(after).map(textOf)).toEqual(["a", "c"]);
    expect(["pending", "running"]).toContain(await statusOf(chatId));
    const missing = await t.request(`${CHATS}/${chatId}/queue/999999999/promote`, { method: "POST", token: alice.token });
    expect([missing.status, message(missing)]).toEqual([404, "Queued message not found."]);
    const bad = await t.request(`${CHATS}/${chatId}/queue/abc/promote`, { method: "POST", token: alice.token });
    expect([bad.status, message(bad)]).toEqual([400, "Invalid queued message ID."]);
  });

  it("deletes a queued message; an unknown id is 204 too, a non-integer 400", async () => {
    const del = (id: string) => t.request(`${CHATS}/${chatId}/queue/${id}`, { method: "DELETE", token: alice.token });
    expect((await del(String(queuedIds[0]))).status).toBe(204);
    expect(queuedOf(await history(chatId)).map(textOf)).toEqual(["c"]);
    expect((await del("999999999")).status).toBe(204);
    expect((await del(String(queuedIds[0]))).status).toBe(204);
    for (const id of ["abc", "1.5", "99999999999999999999"]) {
      const response = await del(id);
      expect([response.status, message(response)], id).toEqual([400, "Invalid queued message ID."]);
    }
  });

  it("answers another member 404 on every message and queue route; an admin may read", async () => {
    const [firstMessage] = messagesOf(await history(chatId));
    const routes: Array<[string, string, unknown]> = [
      ["GET", `${CHATS}/${chatId}/messages`, undefined],
      ["POST", `${CHATS}/${chatId}/messages`, { content: text("intruder") }],
      ["PATCH", `${CHATS}/${chatId}/messages/${String(field(firstMessage, "id"))}`, { content: text("intruder") }],
      ["DELETE", `${CHATS}/${chatId}/queue/${queuedIds[2]}`, undefined],
      ["POST", `${CHATS}/${chatId}/queue/${queuedIds[2]}/promote`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const response = await t.request(path, { method, token: bob.token, ...(body === undefined ? {} : { body }) });
      expect([response.status, message(response)], `${method} ${path}`).toEqual([404, "Chat not found."]);
    }
    expect(queuedOf(await history(chatId)).map(textOf)).toEqual(["c"]);
    expect((await history(chatId, "", admin)).status).toBe(200);
  });
});

describe("edit", () => {
  it("replaces the message, drops everything after it and empties the queue", async () => {
    const chatId = await seedChat(alice, "running", ["draft one", "follow-up"]);
    await send(chatId, { content: text("queued behind") });
    const before = await history(chatId);
    expect(messagesOf(before).map(textOf)).toEqual(["follow-up", "draft one"]);
    expect(queuedOf(before).map(textOf)).toEqual(["queued behind"]);
    const target = field(messagesOf(before)[1], "id");
    const edited = await t.request(`${CHATS}/${chatId}/messages/${String(target)}`, { method: "PATCH", token: alice.token, body: { content: text("draft two") } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ chat_id: chatId, role: "user", created_by: alice.id, model_config_id: defaultConfigId, content: text("draft two") });
    expect(Number(field(edited.body, "id"))).toBeGreaterThan(Number(target));
    const after = await history(chatId);
    expect(messagesOf(after).map(textOf)).toEqual(["draft two"]);
    expect(queuedOf(after)).toEqual([]);
    expect(["pending", "running"]).toContain(await statusOf(chatId));
    // Soft-deleted, not gone: the rows remain for cost history.
    const rows = await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(asc(chatMessages.id));
    expect(rows.filter((row) => row.deleted).length).toBe(2);
  });

  it("refuses bad ids, another chat's message, non-user messages and empty content", async () => {
    const chatId = await newChat(alice);
    const otherChat = await newChat(alice);
    const edit = (id: string, body: unknown = { content: text("x") }) =>
      t.request(`${CHATS}/${chatId}/messages/${id}`, { method: "PATCH", token: alice.token, body });
    for (const id of ["0", "-1", "abc", "1.5"]) {
      const response = await edit(id);
      expect([response.status, message(response)], id).toEqual([400, "Invalid chat message ID."]);
    }
    const [foreign] = messagesOf(await history(otherChat));
    const notHere = await edit(String(field(foreign, "id")));
    expect([notHere.status, message(notHere)]).toEqual([404, "Chat message not found."]);
    const [system] = await t.server.database.db
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.chatId, chatId), eq(chatMessages.role, "system")))
      .limit(1);
    const notUser = await edit(String(system?.id));
    expect([notUser.status, message(notUser)]).toEqual([400, "Only user messages can be edited."]);
    const [own] = messagesOf(await history(chatId));
    const empty = await edit(String(field(own, "id")), { content: [] });
    expect([empty.status, message(empty), detail(empty)]).toEqual([400, "Content is required.", "Content cannot be empty."]);
    expect(messagesOf(await history(chatId)).map(textOf)).toEqual(["first"]);
  });
});
