/**
 * Catch-up by cursor: a new message in a chat with 10,000 messages is read by its viewers as
 * the rows after their cursor, never the history (asserted on the queries issued, not on time).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatMessages, chats } from "../../src/db/schema/index.js";
import { CONTENT_VERSION, encodeParts } from "../../src/chats/parts.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { startSilentLlm, type SilentLlm } from "../helpers/silent-llm.js";
import { connectStream } from "../helpers/ws.js";
import { eq } from "drizzle-orm";

const CHATS = "/api/experimental/chats";
const HISTORY = 10_000;
/** Inserted in batches: one statement per 1,000 rows keeps parameters under PostgreSQL's limit. */
const BATCH = 1_000;

const queries: Array<{ query: string; params: unknown[] }> = [];
let t: TestServer;
let owner: TestUser;
let silent: SilentLlm;

beforeAll(async () => {
  silent = await startSilentLlm();
  t = await startTestServer({ onQuery: (query, params) => void queries.push({ query, params }) });
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, silent.baseUrl);
});
afterAll(async () => {
  await t.close();
  await silent.close();
});

describe("catch-up", () => {
  it("reads only the rows after the cursor when a chat with 10,000 messages gets a new one", async () => {
    const created = await t.request(CHATS, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "long history" }] } });
    const chatId = String(field(created.body, "id"));
    const db = t.server.database.db;
    // An idle chat with a long history (no worker holds it).
    await db.update(chats).set({ status: "waiting", workerId: null }).where(eq(chats.id, chatId));
    for (let start = 0; start < HISTORY; start += BATCH) {
      await db.insert(chatMessages).values(
        Array.from({ length: BATCH }, (_, i) => ({
          chatId,
          role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
          content: encodeParts([{ type: "text", text: `m${start + i}` }]),
          contentVersion: CONTENT_VERSION,
        })),
      );
    }
    const history = await t.request(`${CHATS}/${chatId}/messages?limit=1`, { token: owner.token });
    const page = field(history.body, "messages");
    const lastId = Number(field(Array.isArray(page) ? page[0] : undefined, "id"));
    expect(lastId).toBeGreaterThan(HISTORY);

    const client = await connectStream(`${t.url}${CHATS}/${chatId}/stream?after_id=${lastId}`, owner.token);
    try {
      await client.waitForEvents((e) => e.some((x) => field(x, "type") === "status"), "snapshot");
      queries.length = 0;
      const sent = await t.request(`${CHATS}/${chatId}/messages`, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "one more" }] } });
      expect(sent.status).toBe(200);
      const events = await client.waitForEvents((e) => e.some((x) => field(x, "type") === "message"), "the new message");
      const messages = events.filter((x) => field(x, "type") === "message");
      expect(messages).toHaveLength(1);
      // Every read of chat_messages by the stream was bounded by its cursor (the last id it had).
      const reads = queries.filter((q) => /from "chat_messages"/i.test(q.query) && /"chat_messages"\."id" > \$/i.test(q.query));
      expect(reads.length).toBeGreaterThan(0);
      for (const read of reads) expect(read.params).toContain(lastId);
    } finally {
      client.close();
    }
  });
});
