/**
 * The chat routes through the real server: create (model, workspace, MCP and input checks, title,
 * initial messages), list (own chats only, cursor and offset pages, archived filter), get, archive,
 * interrupt, and the 404 a member gets for another member's chat.
 *
 * The server's chat worker may pick chats up. The provider points at a local server that accepts
 * connections and never answers, so a picked-up chat stays `running` (busy) without producing
 * output, and list tests seed idle chats directly so no worker re-stamps their `updated_at`.
 */
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatMessages, chats } from "../../src/db/schema/index.js";
import { decodeParts } from "../../src/chats/parts.js";
import { DEFAULT_SYSTEM_PROMPT, NO_WORKSPACE_MESSAGE } from "../../src/chats/input.js";
import { startChatRouteWorld, type ChatRouteWorld } from "../helpers/chat-routes.js";
import { field, validationFields, type ApiResponse, type TestServer, type TestUser } from "../helpers/server.js";

const CHATS = "/api/experimental/chats";
const NIL = "00000000-0000-0000-0000-000000000000";
const UNKNOWN = "9b2f3c4d-1111-4222-8333-444455556666";

let world: ChatRouteWorld;
let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let defaultConfigId = "";

beforeAll(async () => {
  world = await startChatRouteWorld();
  ({ t, owner, admin, alice, bob } = world);
});
afterAll(async () => {
  await world.close();
});

const text = (value: string) => [{ type: "text", text: value }];
const list = (body: unknown): unknown[] => (Array.isArray(body) ? body : []);
const ids = (response: ApiResponse) => list(response.body).map((chat) => field(chat, "id"));
const message = (response: ApiResponse) => field(response.body, "message");
const detail = (response: ApiResponse) => field(response.body, "detail");

async function createChat(user: TestUser, body: Record<string, unknown> = { content: text("hello there") }): Promise<ApiResponse> {
  return t.request(CHATS, { method: "POST", token: user.token, body });
}
async function newChatId(user: TestUser, words = "hello there"): Promise<string> {
  const response = await createChat(user, { content: text(words) });
  expect(response.status, response.text).toBe(201);
  return String(field(response.body, "id"));
}
const addModelConfig = (model: string): Promise<string> => world.addModelConfig(model);

describe("before any model config exists", () => {
  it("refuses to create a chat: no default model", async () => {
    const response = await createChat(alice);
    expect(response.status).toBe(400);
    expect(message(response)).toBe("No default chat model config is configured.");
  });

  it("then an admin configures a provider and the first (default) model", async () => {
    defaultConfigId = await addModelConfig("claude-default");
  });
});

describe("create", () => {
  it("answers 201 with the pending chat, and stores system prompt, workspace awareness and the user message", async () => {
    const response = await createChat(alice, { content: [{ type: " TEXT ", text: "  Fix the flaky login test please, it fails on CI  " }] });
    expect(response.status, response.text).toBe(201);
    const id = String(field(response.body, "id"));
    expect(response.body).toEqual({
      id,
      owner_id: alice.id,
      workspace_id: null,
      parent_chat_id: null,
      root_chat_id: id,
      last_model_config_id: defaultConfigId,
      title: "Fix the flaky login test please,…",
      status: "pending",
      last_error: null,
      archived: false,
      mode: null,
      mcp_server_ids: [],
      diff_status: { chat_id: id },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const rows = await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, id)).orderBy(asc(chatMessages.id));
    expect(rows.map((row) => [row.role, row.visibility, row.createdBy, row.modelConfigId, decodeParts(row.content)])).toEqual([
      ["system", "model", null, null, text(DEFAULT_SYSTEM_PROMPT)],
      ["system", "model", null, null, text(NO_WORKSPACE_MESSAGE)],
      ["user", "both", alice.id, defaultConfigId, text("Fix the flaky login test please, it fails on CI")],
    ]);
  });

  it("uses the site system prompt when one is set, and the default again when it is blanked", async () => {
    const put = (prompt: string) => t.request(`${CHATS}/config/system-prompt`, { method: "PUT", token: admin.token, body: { system_prompt: prompt } });
    expect((await put("You are the team's careful reviewer.")).status).toBe(204);
    const firstSystem = async (chatId: string) => {
      const [row] = await t.server.database.db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(asc(chatMessages.id)).limit(1);
      return decodeParts(row?.content);
    };
    expect(await firstSystem(await newChatId(alice))).toEqual(text("You are the team's careful reviewer."));
    expect((await put("   ")).status).toBe(204);
    expect(await firstSystem(await newChatId(alice))).toEqual(text(DEFAULT_SYSTEM_PROMPT));
  });

  it("makes the fallback title from file references too", async () => {
    const reference = await createChat(alice, {
      content: [{ type: "file-reference", file_name: "bug.py", start_line: 7, end_line: 9, content: "x = None" }],
    });
    expect(reference.status).toBe(201);
    expect(field(reference.body, "title")).toBe("[file-reference] bug.py:7-9 ``` x = None…");
  });

  it("takes an explicit model config, and refuses a nil, malformed, unknown, deleted or disabled one", async () => {
    const second = await addModelConfig("claude-second");
    const chosen = await createChat(alice, { content: text("hi"), model_config_id: second });
    expect(chosen.status).toBe(201);
    expect(field(chosen.body, "last_model_config_id")).toBe(second);

    const deleted = await addModelConfig("claude-deleted");
    expect((await t.request(`${CHATS}/model-configs/${deleted}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    const disabled = await addModelConfig("claude-disabled");
    await t.request(`${CHATS}/model-configs/${disabled}`, { method: "PATCH", token: admin.token, body: { enabled: false } });
    for (const id of [NIL, "not-a-uuid", UNKNOWN, deleted, disabled]) {
      const response = await createChat(alice, { content: text("hi"), model_config_id: id });
      expect(response.status, id).toBe(400);
      expect(message(response)).toBe("Invalid model config ID.");
    }
  });

  it("refuses any workspace (none exist yet) and any MCP server id, creating nothing", async () => {
    const before = (await t.server.database.db.select().from(chats)).length;
    const workspace = await createChat(alice, { content: text("hi"), workspace_id: UNKNOWN });
    expect(workspace.status).toBe(400);
    expect(message(workspace)).toBe("Workspace not found or you do not have access to this resource");
    const mcp = await createChat(alice, { content: text("hi"), mcp_server_ids: [UNKNOWN] });
    expect(mcp.status).toBe(400);
    expect(message(mcp)).toBe("One or more MCP server IDs are invalid.");
    expect(detail(mcp)).toBe(`Invalid IDs: ${UNKNOWN}`);
    expect((await t.server.database.db.select().from(chats)).length).toBe(before);
  });

  it("validates input parts with behavior.md's messages", async () => {
    const cases: Array<[unknown, string, string | undefined]> = [
      [[], "Content is required.", "Content cannot be empty."],
      [undefined, "Content is required.", "Content cannot be empty."],
      [[{ type: "text", text: "ok" }, { type: "text", text: "   " }], "Invalid input part.", "content[1].text cannot be empty."],
      [[{ type: "file" }], "Invalid input part.", "content[0].file_id is required for file parts."],
      [[{ type: "file", file_id: UNKNOWN }], "Invalid input part.", "content[0].file_id references a file that does not exist."],
      [[{ type: "file", file_id: "nope" }], "Invalid input part.", "content[0].file_id references a file that does not exist."],
      [[{ type: "file-reference", file_name: " ", start_line: 1, end_line: 1 }], "Invalid input part.", "content[0].file_name cannot be empty for file-reference."],
      [[{ type: "image", text: "x" }], "Invalid input part.", 'content[0].type "image" is not supported.'],
    ];
    for (const [content, expectedMessage, expectedDetail] of cases) {
      const response = await createChat(alice, content === undefined ? {} : { content });
      expect(response.status, JSON.stringify(content)).toBe(400);
      expect(message(response)).toBe(expectedMessage);
      expect(detail(response)).toBe(expectedDetail);
    }
    const malformed = await createChat(alice, { content: [{ type: 3 }] });
    expect(malformed.status).toBe(400);
    expect(validationFields(malformed.body)).toEqual(["content.0.type"]);
  });

  it("needs a login", async () => {
    expect((await t.request(CHATS, { method: "POST", body: { content: text("hi") } })).status).toBe(401);
    expect((await t.request(CHATS)).status).toBe(401);
  });
});

describe("get, archive and interrupt", () => {
  it("gets a chat; bad ids are 400, missing and other members' chats 404; admins read any chat", async () => {
    const id = await newChatId(alice);
    const own = await t.request(`${CHATS}/${id}`, { token: alice.token });
    expect(own.status).toBe(200);
    expect(field(own.body, "diff_status")).toEqual({ chat_id: id });
    const bad = await t.request(`${CHATS}/not-a-uuid`, { token: alice.token });
    expect([bad.status, message(bad)]).toEqual([400, "Invalid chat ID."]);
    for (const response of [await t.request(`${CHATS}/${UNKNOWN}`, { token: alice.token }), await t.request(`${CHATS}/${id}`, { token: bob.token })]) {
      expect([response.status, message(response)]).toEqual([404, "Chat not found."]);
    }
    expect((await t.request(`${CHATS}/${id}`, { token: admin.token })).status).toBe(200);
  });

  it("archives and unarchives, refusing a repeat of either; title alone changes nothing", async () => {
    const id = await newChatId(alice);
    const patch = (body: unknown, user = alice) => t.request(`${CHATS}/${id}`, { method: "PATCH", token: user.token, body });
    expect((await patch({ archived: true })).status).toBe(204);
    const again = await patch({ archived: true });
    expect([again.status, message(again)]).toEqual([400, "Chat is already archived."]);
    expect(field((await t.request(`${CHATS}/${id}`, { token: alice.token })).body, "archived")).toBe(true);
    expect((await patch({ archived: false })).status).toBe(204);
    const notArchived = await patch({ archived: false });
    expect([notArchived.status, message(notArchived)]).toEqual([400, "Chat is not archived."]);
    expect((await patch({ title: "Renamed" })).status).toBe(204);
    expect(field((await t.request(`${CHATS}/${id}`, { token: alice.token })).body, "title")).toBe("hello there");
    expect((await patch({ archived: true }, bob)).status).toBe(404);
  });

  it("interrupts a running chat (it goes waiting); an idle chat is left as it is; other members get 404", async () => {
    const id = await newChatId(alice);
    // Running either under the server's worker or, if it has not picked the chat up yet, a stand-in.
    await t.server.database.db
      .update(chats)
      .set({ status: "running", workerId: UNKNOWN, startedAt: new Date(), heartbeatAt: new Date() })
      .where(and(eq(chats.id, id), eq(chats.status, "pending")));
    expect((await t.request(`${CHATS}/${id}/interrupt`, { method: "POST", token: bob.token })).status).toBe(404);
    const running = await t.request(`${CHATS}/${id}/interrupt`, { method: "POST", token: alice.token });
    expect([running.status, field(running.body, "status")]).toEqual([200, "waiting"]);
    const idle = await t.request(`${CHATS}/${id}/interrupt`, { method: "POST", token: alice.token });
    expect([idle.status, field(idle.body, "status")]).toEqual([200, "waiting"]);
    expect((await t.request(`${CHATS}/not-a-uuid/interrupt`, { method: "POST", token: alice.token })).status).toBe(400);
  });
});

describe("list", () => {
  let carol: TestUser;
  /** Carol's chats, newest first. */
  let carolChats: string[] = [];

  /** An idle chat with a chosen updated_at: no worker touches it, so the order is fixed. */
  async function seedChat(user: TestUser, title: string, updatedAt: Date): Promise<string> {
    const [row] = await t.server.database.db
      .insert(chats)
      .values({ ownerId: user.id, title, lastModelConfigId: defaultConfigId, status: "waiting", createdAt: updatedAt, updatedAt })
      .returning({ id: chats.id });
    return row?.id ?? "";
  }

  beforeAll(async () => {
    carol = await t.createUser(owner);
    // Interleaved with another user's chats: pages must still be full (filtered in SQL).
    const base = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) {
      carolChats.push(await seedChat(carol, `carol ${i}`, new Date(base + i * 1000)));
      await seedChat(bob, `bob ${i}`, new Date(base + i * 1000 + 500));
    }
    carolChats = carolChats.reverse();
  });

  it("lists only the caller's own chats, newest first, for every role", async () => {
    expect(ids(await t.request(CHATS, { token: carol.token }))).toEqual(carolChats);
    const adminOwn = await newChatId(admin);
    expect(ids(await t.request(CHATS, { token: admin.token }))).toEqual([adminOwn]);
    expect(ids(await t.request(CHATS, { token: owner.token }))).toEqual([]);
  });

  it("pages by after_id and by offset without short pages", async () => {
    const page = (query: string) => t.request(`${CHATS}?${query}`, { token: carol.token }).then(ids);
    expect(await page("limit=2")).toEqual(carolChats.slice(0, 2));
    expect(await page(`limit=2&after_id=${carolChats[1]}`)).toEqual(carolChats.slice(2, 4));
    expect(await page(`limit=2&after_id=${carolChats[3]}`)).toEqual(carolChats.slice(4));
    expect(await page("limit=2&offset=2")).toEqual(carolChats.slice(2, 4));
    expect(await page("limit=0")).toEqual(carolChats);
  });

  it("orders by updated_at: an archived-then-unarchived chat moves to the front", async () => {
    const last = carolChats[4] ?? "";
    await t.request(`${CHATS}/${last}`, { method: "PATCH", token: carol.token, body: { archived: true } });
    await t.request(`${CHATS}/${last}`, { method: "PATCH", token: carol.token, body: { archived: false } });
    carolChats = [last, ...carolChats.slice(0, 4)];
    expect(ids(await t.request(CHATS, { token: carol.token }))).toEqual(carolChats);
  });

  it("filters archived chats with q", async () => {
    const archived = carolChats[2] ?? "";
    await t.request(`${CHATS}/${archived}`, { method: "PATCH", token: carol.token, body: { archived: true } });
    expect(ids(await t.request(CHATS, { token: carol.token }))).not.toContain(archived);
    expect(ids(await t.request(`${CHATS}?q=archived:false`, { token: carol.token }))).not.toContain(archived);
    expect(ids(await t.request(`${CHATS}?q=${encodeURIComponent(" ARCHIVED:TRUE ")}`, { token: carol.token }))).toEqual([archived]);
  });

  it("refuses bad queries, limits and cursors with 400", async () => {
    for (const q of ["archived:maybe", "title:x", "hello", "archived"]) {
      const response = await t.request(`${CHATS}?q=${encodeURIComponent(q)}`, { token: carol.token });
      expect([response.status, message(response)], q).toEqual([400, "Invalid chat search query."]);
    }
    for (const query of ["limit=201", "limit=-1", "limit=x", "offset=-1", "after_id=nope", `after_id=${UNKNOWN}`, `after_id=${await newChatId(bob)}`]) {
      expect((await t.request(`${CHATS}?${query}`, { token: carol.token })).status, query).toBe(400);
    }
    expect((await t.request(`${CHATS}?limit=200`, { token: carol.token })).status).toBe(200);
  });
});

describe("OpenAPI", () => {
  it("documents the chat routes with named schemas", async () => {
    const doc = await t.request("/api/openapi.json");
    const paths = field(doc.body, "paths");
    expect(Object.keys(typeof paths === "object" && paths !== null ? paths : {})).toEqual(
      expect.arrayContaining([
        CHATS,
        `${CHATS}/{chat}`,
        `${CHATS}/{chat}/messages`,
        `${CHATS}/{chat}/messages/{message}`,
        `${CHATS}/{chat}/queue/{id}/promote`,
        `${CHATS}/files`,
        `${CHATS}/config/system-prompt`,
        `${CHATS}/config/user-prompt`,
      ]),
    );
    const created = field(field(field(field(field(field(paths, CHATS), "post"), "responses"), "201"), "content"), "application/json");
    expect(field(field(field(created, "schema"), "$defs"), "Chat")).toBeDefined();
  });
});
