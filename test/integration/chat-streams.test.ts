/**
 * The chat WebSockets on one replica: snapshot order, live parts that assemble into the stored
 * answer, exact resume after disconnects, access rules, and the chat-list watch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { connectStream, refusedUpgrade } from "../helpers/ws.js";
import { reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let other: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  other = await t.createUser(owner);
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t.close();
});

const CHATS = "/api/experimental/chats";
const ANSWER = Array.from({ length: 120 }, (_, i) => `w${i}`).join(" ");

function typeOf(event: unknown): unknown {
  return field(event, "type");
}

/** Text assembled from text parts, applying preview resets, plus the last stored assistant text. */
function assemble(events: unknown[]): { preview: string; stored: string | undefined } {
  let preview = "";
  let stored: string | undefined;
  for (const event of events) {
    if (typeOf(event) === "preview_reset") preview = "";
    if (typeOf(event) === "message_part") {
      const part = field(field(event, "message_part"), "part");
      if (field(part, "type") === "text") preview += String(field(part, "text") ?? "");
    }
    if (typeOf(event) === "message") {
      const message = field(event, "message");
      if (field(message, "role") === "assistant") {
        const content = field(message, "content");
        stored = Array.isArray(content) ? content.map((p) => String(field(p, "text") ?? "")).join("") : "";
      }
    }
  }
  return { preview, stored };
}

/** Creates a chat through the API (its title request is answered by the routed turns below). */
async function createChat(text: string): Promise<string> {
  const response = await t.request(CHATS, { method: "POST", token: owner.token, body: { content: [{ type: "text", text }] } });
  return String(field(response.body, "id"));
}

describe("chat stream", () => {
  it("sends the snapshot in order, then live parts that add up to the stored answer", async () => {
    mock.enqueue(
      (request) => (request.stream ? { parts: [{ type: "text", text: ANSWER }], chunkDelayMs: 2, usage: { input: 5, output: 5 } } : { parts: [{ type: "text", text: "A title" }] }),
      (request) => (request.stream ? { parts: [{ type: "text", text: ANSWER }], chunkDelayMs: 2, usage: { input: 5, output: 5 } } : { parts: [{ type: "text", text: "A title" }] }),
    );
    const chatId = await createChat("stream me");
    const client = await connectStream(`${t.url}${CHATS}/${chatId}/stream`, owner.token);
    try {
      const events = await client.waitForEvents((e) => assemble(e).stored !== undefined, "the stored answer");
      expect(typeOf(events[0])).toBe("status");
      const firstMessage = events.findIndex((e) => typeOf(e) === "message");
      expect(field(field(events[firstMessage], "message"), "role")).toBe("user");
      const { preview, stored } = assemble(events);
      expect(stored).toBe(ANSWER);
      // Either the parts streamed live (then they add up to the answer) or the run ended first.
      if (events.some((e) => typeOf(e) === "message_part")) expect(preview).toBe(ANSWER);
      for (const frame of client.frames) if (frame.type === "data") expect(Array.isArray(frame.data)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("resumes exactly after disconnects: no part twice, and the text equals the stored answer", async () => {
    const slow = { parts: [{ type: "text" as const, text: ANSWER }], chunkDelayMs: 15, usage: { input: 5, output: 5 } };
    mock.enqueue(
      (request) => (request.stream ? slow : { parts: [{ type: "text", text: "Title" }] }),
      (request) => (request.stream ? slow : { parts: [{ type: "text", text: "Title" }] }),
    );
    const chatId = await createChat("resume me");
    let afterId = 0;
    let afterPart: string | undefined;
    let text = "";
    const seen = new Set<string>();
    let stored: string | undefined;
    // Bounded: the answer streams for about 2 s; each round reads a few parts and hangs up.
    for (let round = 0; round < 500 && stored === undefined; round++) {
      const query = new URLSearchParams({ after_id: String(afterId), ...(afterPart ? { after_part: afterPart } : {}) });
      const client = await connectStream(`${t.url}${CHATS}/${chatId}/stream?${query}`, owner.token);
      // Read a few events, then drop the connection mid-stream.
      await client
        .waitForEvents((e) => e.filter((x) => typeOf(x) === "message_part").length >= 3 || assemble(e).stored !== undefined, "some events", 15_000)
        .catch(() => undefined);
      client.close();
      await client.closed;
      for (const event of client.events()) {
        if (typeOf(event) === "preview_reset") text = "";
        if (typeOf(event) === "message_part") {
          const part = field(event, "message_part");
          const key = `${String(field(part, "episode"))}:${String(field(part, "seq"))}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          afterPart = key;
          if (field(field(part, "part"), "type") === "text") text += String(field(field(part, "part"), "text") ?? "");
        }
        if (typeOf(event) === "message") {
          const message = field(event, "message");
          afterId = Math.max(afterId, Number(field(message, "id")));
          if (field(message, "role") === "assistant") stored = assemble([event]).stored;
        }
      }
    }
    expect(stored).toBe(ANSWER);
    expect(text).toBe(ANSWER);
  });

  it("refuses other users (404), bad cursors (400), no credential (401) and plain HTTP (400)", async () => {
    const chatId = await createChat("private");
    expect(await refusedUpgrade(`${t.url}${CHATS}/${chatId}/stream`, { Authorization: `Bearer ${other.token}` })).toBe(404);
    expect(await refusedUpgrade(`${t.url}${CHATS}/${chatId}/stream?after_id=x`, { Authorization: `Bearer ${owner.token}` })).toBe(400);
    expect(await refusedUpgrade(`${t.url}${CHATS}/${chatId}/stream?after_part=nope`, { Authorization: `Bearer ${owner.token}` })).toBe(400);
    expect(await refusedUpgrade(`${t.url}${CHATS}/${chatId}/stream`, {})).toBe(401);
    expect((await t.request(`${CHATS}/${chatId}/stream`, { token: owner.token })).status).toBe(400);
    await waitFor(async () => ["waiting", "error"].includes((await reloadChat(t.server.database.db, chatId)).status), { timeoutMs: 15_000 });
  });
});

describe("watch", () => {
  it("starts with a ping, then one frame per change of the caller's chats only", async () => {
    const client = await connectStream(`${t.url}${CHATS}/watch`, owner.token);
    const otherClient = await connectStream(`${t.url}${CHATS}/watch`, other.token);
    try {
      await waitFor(() => client.frames.length >= 1, { message: "first frame" });
      expect(client.frames[0]?.type).toBe("ping");
      const chatId = await createChat("watch me");
      const events = await client.waitForEvents(
        (e) => e.some((x) => field(x, "kind") === "created" && field(field(x, "chat"), "id") === chatId),
        "created event",
      );
      const created = events.find((x) => field(x, "kind") === "created");
      expect(field(field(created, "chat"), "owner_id")).toBe(owner.id);
      await client.waitForEvents((e) => e.some((x) => field(x, "kind") === "status_change" && field(field(x, "chat"), "id") === chatId), "status change");
      expect((await t.request(`${CHATS}/${chatId}`, { method: "PATCH", token: owner.token, body: { archived: true } })).status).toBe(204);
      await client.waitForEvents((e) => e.some((x) => field(x, "kind") === "deleted" && field(field(x, "chat"), "id") === chatId), "deleted event");
      expect((await t.request(`${CHATS}/${chatId}`, { method: "PATCH", token: owner.token, body: { archived: false } })).status).toBe(204);
      await client.waitForEvents((e) => e.filter((x) => field(x, "kind") === "created" && field(field(x, "chat"), "id") === chatId).length === 2, "created again");
      expect(client.frames.filter((f) => f.type === "data").every((f) => !Array.isArray(f.data))).toBe(true);
      expect(otherClient.events()).toEqual([]);
    } finally {
      client.close();
      otherClient.close();
    }
  });
});
