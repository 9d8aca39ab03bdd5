/**
 * Chat files and prompt settings through the real server: uploads (allowed types by declared
 * Content-Type AND sniffed bytes, the 10 MiB limit, names from Content-Disposition), downloads and
 * their headers, who may read a file, file parts in messages, and the system and user prompts.
 */
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatFiles, chatMessages } from "../../src/db/schema/index.js";
import { decodeParts } from "../../src/chats/parts.js";
import { MAX_CHAT_FILE_BYTES } from "../../src/chats/files.js";
import { startChatRouteWorld, type ChatRouteWorld } from "../helpers/chat-routes.js";
import { field, type ApiResponse, type TestServer, type TestUser } from "../helpers/server.js";

const CHATS = "/api/experimental/chats";
const FILES = `${CHATS}/files`;
const UNKNOWN = "9b2f3c4d-1111-4222-8333-444455556666";

/** The smallest headers each sniffer recognizes, followed by a few bytes of "image". */
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0]);
const GIF = new TextEncoder().encode("GIF89a\u0001\u0000\u0001\u0000");
const WEBP = new TextEncoder().encode("RIFF\u0024\u0000\u0000\u0000WEBPVP8 ");
const SVG = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

let world: ChatRouteWorld;
let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  world = await startChatRouteWorld();
  ({ t, owner, admin, alice, bob } = world);
  await world.addModelConfig("claude");
});
afterAll(async () => {
  await world.close();
});

const message = (response: ApiResponse) => field(response.body, "message");

interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  json: unknown;
}

/** Uploads raw bytes (the test helper sends JSON only). */
async function upload(user: TestUser | undefined, body: Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = { "Content-Type": "image/png" }, query = ""): Promise<RawResponse> {
  const response = await fetch(`${t.url}${FILES}${query}`, {
    method: "POST",
    headers: { ...headers, ...(user ? { Authorization: `Bearer ${user.token}` } : {}) },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, bytes, json };
}
async function uploaded(user: TestUser, body: Uint8Array, headers?: Record<string, string>): Promise<string> {
  const response = await upload(user, body, headers);
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  return String(field(response.json, "id"));
}
async function download(user: TestUser | undefined, id: string): Promise<RawResponse> {
  const response = await fetch(`${t.url}${FILES}/${id}`, { headers: user ? { Authorization: `Bearer ${user.token}` } : {} });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, json: undefined };
}
const storedFile = async (id: string) => (await t.server.database.db.select().from(chatFiles).where(eq(chatFiles.id, id)))[0];
const fileCount = async (user: TestUser) => (await t.server.database.db.select({ id: chatFiles.id }).from(chatFiles).where(eq(chatFiles.ownerId, user.id))).length;

describe("upload", () => {
  it.each([
    ["image/png", PNG],
    ["image/jpeg", JPEG],
    ["image/gif", GIF],
    ["image/webp", WEBP],
  ])("accepts %s and serves the same bytes back", async (type, bytes) => {
    const id = await uploaded(alice, bytes, { "Content-Type": type });
    const served = await download(alice, id);
    expect(served.status).toBe(200);
    expect(served.bytes).toEqual(bytes);
    expect(served.headers.get("content-type")).toBe(type);
    expect(served.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("content-disposition")).toBe("inline");
  });

  it("strips Content-Type parameters, ignores organization, and stores the sniffed type", async () => {
    const response = await upload(alice, JPEG, { "Content-Type": "Image/PNG; charset=binary" }, `?organization=${UNKNOWN}`);
    expect(response.status).toBe(201);
    expect((await storedFile(String(field(response.json, "id"))))?.mimetype).toBe("image/jpeg");
  });

  it("refuses SVG, a disallowed or missing Content-Type, and bytes that are not an allowed image", async () => {
    const before = await fileCount(alice);
    const cases: Array<[Uint8Array, Record<string, string>]> = [
      [SVG, { "Content-Type": "image/svg+xml" }],
      [SVG, { "Content-Type": "image/png" }],
      [new TextEncoder().encode("just some text, not a picture"), { "Content-Type": "image/png" }],
      [new TextEncoder().encode("<html><body>hi</body></html>"), { "Content-Type": "image/gif" }],
      [PNG, { "Content-Type": "text/plain" }],
      [PNG, { "Content-Type": "application/octet-stream" }],
      [new Uint8Array(0), { "Content-Type": "image/png" }],
    ];
    for (const [body, headers] of cases) {
      const response = await upload(alice, body, headers);
      expect([response.status, field(response.json, "message")], JSON.stringify(headers)).toEqual([400, "Unsupported file type."]);
    }
    expect(await fileCount(alice)).toBe(before);
  });

  it("accepts exactly 10 MiB and refuses one byte more with 413, storing nothing, with or without Content-Length", async () => {
    const limit = new Uint8Array(MAX_CHAT_FILE_BYTES);
    limit.set(PNG);
    const id = await uploaded(alice, limit);
    expect((await storedFile(id))?.data.length).toBe(MAX_CHAT_FILE_BYTES);
    const before = await fileCount(alice);

    const over = new Uint8Array(MAX_CHAT_FILE_BYTES + 1);
    over.set(PNG);
    const sized = await upload(alice, over);
    expect([sized.status, field(sized.json, "message")]).toEqual([413, "File too large."]);
    // After a 413 the server closes the connection, and says so.
    expect(sized.headers.get("connection")).toBe("close");

    // Chunked (no Content-Length): the limit is enforced while reading.
    const chunk = new Uint8Array(1024 * 1024);
    chunk.set(PNG);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_CHAT_FILE_BYTES) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const chunked = await upload(alice, stream);
    expect(chunked.status).toBe(413);
    expect(await fileCount(alice)).toBe(before);
  });

  it("needs a login", async () => {
    expect((await upload(undefined, PNG)).status).toBe(401);
  });
});

describe("file names", () => {
  const nameOf = async (disposition: string) => (await storedFile(await uploaded(alice, PNG, { "Content-Type": "image/png", "Content-Disposition": disposition })))?.name;

  it("reads filename and filename* (preferred), and cuts names to 255 bytes without splitting a character", async () => {
    expect(await nameOf('attachment; filename="screen shot.png"')).toBe("screen shot.png");
    expect(await nameOf("attachment; filename=plain.png")).toBe("plain.png");
    expect(await nameOf(`attachment; filename="fallback.png"; filename*=UTF-8''%E2%82%AC%20rates.png`)).toBe("€ rates.png");
    expect(await nameOf('attachment; filename="quote\\"inside.png"')).toBe('quote"inside.png');
    expect(await nameOf("attachment; filename*=UTF-8''line%0D%0Abreak.png")).toBe("linebreak.png");
    expect(await nameOf("garbage")).toBe("");
    // "é" is 2 bytes: 255 bytes would split the 128th, so 127 of them (254 bytes) remain.
    const accented = await nameOf(`attachment; filename*=UTF-8''${encodeURIComponent("é".repeat(200))}`);
    expect(accented).toBe("é".repeat(127));
    // "😀" is 4 bytes: 63 of them (252 bytes) fit.
    const emoji = await nameOf(`attachment; filename*=UTF-8''${encodeURIComponent("😀".repeat(100))}`);
    expect(emoji).toBe("😀".repeat(63));
    expect(await nameOf(`attachment; filename="${"a".repeat(300)}.png"`)).toBe("a".repeat(255));
  });

  it("sends names back escaped, with RFC 5987 for non-ASCII", async () => {
    const disposition = async (header: string) =>
      (await download(alice, await uploaded(alice, PNG, { "Content-Type": "image/png", "Content-Disposition": header }))).headers.get("content-disposition");
    expect(await disposition('attachment; filename="shot.png"')).toBe('inline; filename="shot.png"');
    expect(await disposition('attachment; filename="a\\"b\\\\c.png"')).toBe('inline; filename="a\\"b\\\\c.png"');
    expect(await disposition(`attachment; filename*=UTF-8''%E2%82%AC%20rates%27.png`)).toBe(
      `inline; filename="_ rates'.png"; filename*=UTF-8''%E2%82%AC%20rates%27.png`,
    );
  });
});

describe("download access", () => {
  it("answers another member 404, an admin 200 (policy: admins read every chat file), bad ids 400", async () => {
    const id = await uploaded(alice, PNG);
    expect((await download(bob, id)).status).toBe(404);
    expect((await download(admin, id)).status).toBe(200);
    expect((await download(alice, UNKNOWN)).status).toBe(404);
    expect((await download(alice, "not-a-uuid")).status).toBe(400);
    expect((await download(undefined, id)).status).toBe(401);
  });
});

describe("file parts in messages", () => {
  it("attaches the caller's own file with its stored type; a file-only message is titled New Chat", async () => {
    const id = await uploaded(alice, GIF, { "Content-Type": "image/gif" });
    const created = await t.request(CHATS, { method: "POST", token: alice.token, body: { content: [{ type: "file", file_id: id.toUpperCase() }] } });
    expect(created.status, created.text).toBe(201);
    expect(field(created.body, "title")).toBe("New Chat");
    const chatId = String(field(created.body, "id"));
    const [user] = await t.server.database.db
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.chatId, chatId), eq(chatMessages.role, "user")))
      .orderBy(asc(chatMessages.id));
    expect(decodeParts(user?.content)).toEqual([{ type: "file", file_id: id, media_type: "image/gif" }]);
    const history = await t.request(`${CHATS}/${chatId}/messages`, { token: alice.token });
    const messages = field(history.body, "messages");
    expect(field(Array.isArray(messages) ? messages[0] : undefined, "content")).toEqual([{ type: "file", file_id: id, media_type: "image/gif" }]);
  });

  it("refuses another user's file as if it did not exist", async () => {
    const bobs = await uploaded(bob, PNG);
    const response = await t.request(CHATS, { method: "POST", token: alice.token, body: { content: [{ type: "text", text: "look" }, { type: "file", file_id: bobs }] } });
    expect([response.status, message(response), field(response.body, "detail")]).toEqual([
      400,
      "Invalid input part.",
      "content[1].file_id references a file that does not exist.",
    ]);
  });
});

describe("system prompt", () => {
  const PATH = `${CHATS}/config/system-prompt`;
  const put = (user: TestUser, prompt: string) => t.request(PATH, { method: "PUT", token: user.token, body: { system_prompt: prompt } });

  it("is readable by anyone ('' when unset) and writable by admins only (others get 404)", async () => {
    expect((await t.request(PATH, { token: alice.token })).body).toEqual({ system_prompt: "" });
    expect((await put(alice, "take over")).status).toBe(404);
    expect((await put(admin, "  Be precise.\n")).status).toBe(204);
    expect((await t.request(PATH, { token: alice.token })).body).toEqual({ system_prompt: "Be precise." });
    expect((await put(owner, "Owners may too.")).status).toBe(204);
  });

  it("refuses more than 131072 bytes after trimming, counting bytes not characters", async () => {
    expect((await put(admin, `  ${"x".repeat(131_072)}  `)).status).toBe(204);
    const tooLong = await put(admin, "é".repeat(65_537));
    expect([tooLong.status, message(tooLong)]).toEqual([400, "System prompt exceeds maximum length."]);
    expect((await put(admin, "with \u0000 inside")).status).toBe(400);
    expect(String(field((await t.request(PATH, { token: alice.token })).body, "system_prompt")).length).toBe(131_072);
  });
});

describe("user prompt", () => {
  const PATH = `${CHATS}/config/user-prompt`;
  const put = (user: TestUser, prompt: string) => t.request(PATH, { method: "PUT", token: user.token, body: { custom_prompt: prompt } });

  it("is each user's own, trimmed, and answered back", async () => {
    expect((await t.request(PATH, { token: alice.token })).body).toEqual({ custom_prompt: "" });
    const saved = await put(alice, "  Answer in French.  ");
    expect([saved.status, saved.body]).toEqual([200, { custom_prompt: "Answer in French." }]);
    expect((await t.request(PATH, { token: alice.token })).body).toEqual({ custom_prompt: "Answer in French." });
    expect((await t.request(PATH, { token: bob.token })).body).toEqual({ custom_prompt: "" });
    expect((await put(alice, "")).body).toEqual({ custom_prompt: "" });
  });

  it("refuses more than 128 KiB", async () => {
    const tooLong = await put(alice, "y".repeat(131_073));
    expect([tooLong.status, message(tooLong)]).toEqual([400, "Custom prompt exceeds maximum length."]);
    expect((await put(alice, "y".repeat(131_072))).status).toBe(200);
  });
});
