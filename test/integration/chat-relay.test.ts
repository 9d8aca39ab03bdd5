/**
 * Two replicas on one PostgreSQL database: a viewer on the replica that does not run a chat gets
 * its parts over the relay, in order, none twice, also when the relay connection is killed, and
 * an interrupt sent to one replica stops the run on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { testDatabaseKind } from "../helpers/env.js";
import { useMockLlm } from "../helpers/llm.js";
import { connectStream } from "../helpers/ws.js";
import { reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

const postgres = testDatabaseKind() === "postgres";
const mock = useMockLlm();
const CHATS = "/api/experimental/chats";
const ANSWER = Array.from({ length: 150 }, (_, i) => `r${i}`).join(" ");

let a: TestServer;
let b: TestServer;
let owner: TestUser;

beforeAll(async () => {
  if (!postgres) return;
  a = await startTestServer();
  b = await startTestServer({ database: a.database });
  owner = await a.createOwner();
  await configureAnthropicModel(a, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  if (!postgres) return;
  await b.close();
  await a.close();
});

function slowTurns(chunkDelayMs: number) {
  const turn = (request: { stream: boolean }) =>
    request.stream ? { parts: [{ type: "text" as const, text: ANSWER }], chunkDelayMs, usage: { input: 3, output: 3 } } : { parts: [{ type: "text" as const, text: "Relay title" }] };
  mock.enqueue(turn, turn);
}

/** Starts a chat and returns it with the replica that runs it and the one that does not. */
async function runningChat(text: string) {
  const created = await a.request(CHATS, { method: "POST", token: owner.token, body: { content: [{ type: "text", text }] } });
  const chatId = String(field(created.body, "id"));
  await waitFor(async () => (await reloadChat(a.server.database.db, chatId)).status === "running", { timeoutMs: 15_000, message: "running" });
  const workerId = (await reloadChat(a.server.database.db, chatId)).workerId;
  const runner = workerId === a.server.replicaId ? a : b;
  const viewer = runner === a ? b : a;
  return { chatId, runner, viewer };
}

function partsText(events: unknown[]): { text: string; keys: string[]; stored: string | undefined } {
  let text = "";
  const keys: string[] = [];
  let stored: string | undefined;
  for (const event of events) {
    const type = field(event, "type");
    if (type === "preview_reset") text = "";
    if (type === "message_part") {
      const part = field(event, "message_part");
      keys.push(`${String(field(part, "episode"))}:${String(field(part, "seq"))}`);
      if (field(field(part, "part"), "type") === "text") text += String(field(field(part, "part"), "text") ?? "");
    }
    if (type === "message" && field(field(event, "message"), "role") === "assistant") {
      const content = field(field(event, "message"), "content");
      stored = Array.isArray(content) ? content.map((p) => String(field(p, "text") ?? "")).join("") : undefined;
    }
  }
  return { text, keys, stored };
}

describe.runIf(postgres)("replica relay", () => {
  it("a viewer on the other replica gets every part, in order, none twice", async () => {
    slowTurns(10);
    const { chatId, viewer } = await runningChat("relay me");
    const client = await connectStream(`${viewer.url}${CHATS}/${chatId}/stream`, owner.token);
    try {
      const events = await client.waitForEvents((e) => partsText(e).stored !== undefined, "stored answer", 20_000);
      const { text, keys, stored } = partsText(events);
      expect(stored).toBe(ANSWER);
      expect(keys.length).toBeGreaterThan(10);
      expect(new Set(keys).size).toBe(keys.length);
      expect(text).toBe(ANSWER);
    } finally {
      client.close();
    }
  });

  it("loses nothing when the relay connection is killed mid-stream", async () => {
    slowTurns(15);
    const { chatId, runner, viewer } = await runningChat("relay kill");
    const client = await connectStream(`${viewer.url}${CHATS}/${chatId}/stream`, owner.token);
    try {
      await client.waitForEvents((e) => partsText(e).keys.length >= 5, "first parts", 20_000);
      // The runner has no viewers of its own: its only WebSockets are relays.
      runner.server.webSockets.dropAll();
      const events = await client.waitForEvents((e) => partsText(e).stored !== undefined, "stored answer", 20_000);
      const { text, keys, stored } = partsText(events);
      expect(stored).toBe(ANSWER);
      expect(new Set(keys).size).toBe(keys.length);
      expect(text).toBe(ANSWER);
    } finally {
      client.close();
    }
  });

  it("an interrupt sent to one replica stops the run on the other and reaches the viewer", async () => {
    slowTurns(30);
    const { chatId, viewer } = await runningChat("relay interrupt");
    const client = await connectStream(`${viewer.url}${CHATS}/${chatId}/stream`, owner.token);
    try {
      await client.waitForEvents((e) => partsText(e).keys.length >= 3, "first parts", 20_000);
      expect((await viewer.request(`${CHATS}/${chatId}/interrupt`, { method: "POST", token: owner.token })).status).toBe(200);
      const events = await client.waitForEvents((e) => partsText(e).stored !== undefined, "the partial answer", 20_000);
      const stored = partsText(events).stored ?? "";
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.length).toBeLessThan(ANSWER.length);
      expect(events.some((e) => field(field(e, "status"), "status") === "waiting")).toBe(true);
    } finally {
      client.close();
    }
  });
});
