/**
 * Three `chatd server` processes on one PostgreSQL database. A client watching a long answer
 * hangs up at random points 50 times, each time reconnecting to a random replica with its
 * (after_id, episode:seq) cursor: the text it assembles must equal the stored answer exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { useMockLlm } from "../helpers/llm.js";
import { runChatd, type ChatdProcess } from "../helpers/process.js";
import { connectStream } from "../helpers/ws.js";
import { field } from "../helpers/server.js";

const postgres = testDatabaseKind() === "postgres";
const mock = useMockLlm();
const CHATS = "/api/experimental/chats";
/** Long enough (about 10 s at 12 ms a word) for 50 hang-ups while it streams. */
const ANSWER = Array.from({ length: 800 }, (_, i) => `p${i}`).join(" ");
const RECONNECTS = 50;

let fresh: FreshDatabase;
const processes: ChatdProcess[] = [];
const urls: string[] = [];

async function api(url: string, path: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? "GET",
    headers: { "Content-Type": "application/json", ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  const body: unknown = text === "" ? undefined : JSON.parse(text);
  return { status: response.status, body };
}

beforeAll(async () => {
  if (!postgres) return;
  fresh = await freshDatabase();
  for (let i = 0; i < 3; i++) {
    const replica = runChatd(["server"], {
      CHATD_LISTEN: "127.0.0.1:0",
      CHATD_DATA_DIR: `${fresh.location.dataDir}/replica-${i}`,
      CHATD_DATABASE_URL: fresh.location.databaseUrl ?? "",
      CHATD_LOG_LEVEL: "warn",
    });
    processes.push(replica);
  }
  urls.push(...(await Promise.all(processes.map((p) => p.started))));
}, 90_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop("SIGTERM")));
  if (postgres) await fresh.destroy();
});

describe.runIf(postgres)("three replicas", () => {
  it("resume across random replicas after 50 disconnects assembles exactly the stored answer", async () => {
    const [first = ""] = urls;
    await api(first, "/api/v2/users/first", { method: "POST", body: { username: "replicas", email: "r@example.com", password: "password-123" } });
    const login = await api(first, "/api/v2/users/login", { method: "POST", body: { username: "replicas", password: "password-123" } });
    const token = String(field(login.body, "session_token"));
    await api(first, `${CHATS}/providers`, { method: "POST", token, body: { provider: "anthropic", api_key: "sk-ant-test-replicas-000000", base_url: mock.baseUrls.anthropic } });
    await api(first, `${CHATS}/model-configs`, { method: "POST", token, body: { provider: "anthropic", model: "claude-sonnet-4-5", context_limit: 200_000 } });
    const turn = (request: { stream: boolean }) =>
      request.stream ? { parts: [{ type: "text" as const, text: ANSWER }], chunkDelayMs: 12, usage: { input: 1, output: 1 } } : { parts: [{ type: "text" as const, text: "Title" }] };
    mock.enqueue(turn, turn);
    const created = await api(first, CHATS, { method: "POST", token, body: { content: [{ type: "text", text: "a long answer please" }] } });
    const chatId = String(field(created.body, "id"));

    let afterId = 0;
    let afterPart: string | undefined;
    let text = "";
    let stored: string | undefined;
    const seen = new Set<string>();
    let rounds = 0;
    let hangUpsMidStream = 0;
    while (stored === undefined && rounds < RECONNECTS * 6) {
      rounds++;
      const url = urls[Math.floor(Math.random() * urls.length)] ?? first;
      const query = new URLSearchParams({ after_id: String(afterId), ...(afterPart ? { after_part: afterPart } : {}) });
      const client = await connectStream(`${url}${CHATS}/${chatId}/stream?${query}`, token);
      // Hang up after a random number of parts, or at the end.
      const stopAfter = rounds <= RECONNECTS ? 1 + Math.floor(Math.random() * 8) : Number.MAX_SAFE_INTEGER;
      await client
        .waitForEvents(
          (events) =>
            events.filter((e) => field(e, "type") === "message_part").length >= stopAfter ||
            events.some((e) => field(e, "type") === "message" && field(field(e, "message"), "role") === "assistant"),
          "parts",
          rounds <= RECONNECTS ? 3_000 : 20_000,
        )
        .catch(() => undefined);
      client.close();
      await client.closed;
      const gotParts = client.events().some((e) => field(e, "type") === "message_part");
      for (const event of client.events()) {
        const type = field(event, "type");
        if (type === "preview_reset") text = "";
        if (type === "message_part") {
          const part = field(event, "message_part");
          const key = `${String(field(part, "episode"))}:${String(field(part, "seq"))}`;
          expect(seen.has(key), `part ${key} twice`).toBe(false);
          seen.add(key);
          afterPart = key;
          if (field(field(part, "part"), "type") === "text") text += String(field(field(part, "part"), "text") ?? "");
        }
        if (type === "message") {
          const message = field(event, "message");
          afterId = Math.max(afterId, Number(field(message, "id")));
          if (field(message, "role") === "assistant") {
            const content = field(message, "content");
            stored = Array.isArray(content) ? content.map((p) => String(field(p, "text") ?? "")).join("") : "";
          }
        }
      }
      if (gotParts && stored === undefined) hangUpsMidStream++;
    }
    expect(hangUpsMidStream).toBeGreaterThanOrEqual(RECONNECTS);
    expect(stored).toBe(ANSWER);
    expect(text).toBe(ANSWER);
  }, 90_000);
});
