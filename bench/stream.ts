/**
 * Streaming costs (issue: live streams and replicas). Prints numbers; asserts nothing.
 *   (a) one chat streaming as fast as the mock sends: tokens/s reaching one WebSocket subscriber,
 *       against the same mock stream read directly with the AI SDK (ratio);
 *   (b) 200 chats streaming at once, 2 subscribers each: p50/p99 part latency (from the hub
 *       publishing a part to a subscriber receiving it) and server RSS;
 *   (c) a subscriber on another replica (relay): p50/p99 latency added over a local subscriber.
 * (a) runs on PGlite; (b) and (c) on PostgreSQL (BENCH_PG_URL, default the local server), as a
 * deployment with many chats would. BENCH_ONLY=a|b|c runs one part.
 *
 *   npm run bench:stream
 */
import fs from "node:fs";
import WebSocket from "ws";
import { streamText } from "ai";
import type { RunningServer } from "../src/server/server.js";
import { api, fmt, get, pct, startReplica, withPgDatabase } from "./support.js";
import { startMockLlm, type MockLlm } from "../src/llm/mock/index.js";
import { createLanguageModel } from "../src/llm/factory.js";

const WORDS_A = 20_000;
const CHATS_B = 200;
const WORDS_B = 100;
const CHUNK_DELAY_B_MS = 20;
const WORDS_C = 400;
const CHUNK_DELAY_C_MS = 5;

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
async function setUp(url: string, mock: MockLlm): Promise<string> {
  await api(url, "/api/v2/users/first", undefined, { username: "bench", email: "bench@example.com", password: "bench-password-1" });
  const token = String(get(await api(url, "/api/v2/users/login", undefined, { username: "bench", password: "bench-password-1" }), "session_token"));
  await api(url, "/api/experimental/chats/providers", token, { provider: "anthropic", api_key: "sk-ant-bench-0000000000", base_url: mock.baseUrls.anthropic });
  await api(url, "/api/experimental/chats/model-configs", token, { provider: "anthropic", model: "claude-sonnet-4-5", context_limit: 1_000_000 });
  return token;
}

/** Answers streaming calls with `text`, title calls with a short title, in either order. */
function enqueueAnswer(mock: MockLlm, text: string, chunkDelayMs: number): void {
  const turn = (request: { stream: boolean }) =>
    request.stream ? { parts: [{ type: "text" as const, text }], chunkDelayMs, usage: { input: 1, output: 1 } } : { parts: [{ type: "text" as const, text: "Bench" }] };
  mock.enqueue(turn, turn);
}

interface Subscriber {
  /** Resolves once the snapshot (its first frame) arrived. */
  ready: Promise<void>;
  arrivals: Map<string, number>;
  tokens: number;
  done: Promise<void>;
  firstPartAt: number;
  lastPartAt: number;
  close(): void;
}

/**
 * Subscribes to a chat's stream; `done` resolves when a new stored assistant message arrives
 * (after the `skipAssistant` already in its snapshot).
 */
function subscribe(url: string, token: string, chatId: string, skipAssistant = 0): Subscriber {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/experimental/chats/${chatId}/stream`, { headers: { Authorization: `Bearer ${token}` } });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let assistants = 0;
  const sub: Subscriber = { ready, arrivals: new Map(), tokens: 0, done: Promise.resolve(), firstPartAt: 0, lastPartAt: 0, close: () => ws.close() };
  sub.done = new Promise<void>((resolve) => {
    ws.on("message", (data: WebSocket.RawData) => {
      markReady();
      const now = performance.now();
      const frame: unknown = JSON.parse(data.toString());
      const events = get(frame, "data");
      for (const event of Array.isArray(events) ? events : []) {
        if (get(event, "type") === "message_part") {
          const part = get(event, "message_part");
          sub.arrivals.set(`${String(get(part, "episode"))}:${String(get(part, "seq"))}`, now);
          sub.tokens++;
          sub.firstPartAt ||= now;
          sub.lastPartAt = now;
        }
        if (get(event, "type") === "message" && get(get(event, "message"), "role") === "assistant" && ++assistants > skipAssistant) resolve();
      }
    });
    ws.on("close", () => resolve());
  });
  return sub;
}

/** Records when the hub published each part (the latency's start). */
function recordPublished(server: RunningServer, chatId: string): { published: Map<string, number>; stop(): void } {
  const published = new Map<string, number>();
  const stop = server.daemon.hub.subscribeChat(chatId, (event) => {
    if (event.type === "message_part") published.set(`${event.message_part.episode}:${event.message_part.seq}`, performance.now());
  });
  return { published, stop };
}

async function createChat(url: string, token: string, text: string): Promise<string> {
  return String(get(await api(url, "/api/experimental/chats", token, { content: [{ type: "text", text }] }), "id"));
}

async function benchA(mock: MockLlm): Promise<void> {
  const text = words(WORDS_A);
  // Direct: the AI SDK reading the mock's stream, no chatd in between.
  mock.enqueue({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
  const model = createLanguageModel({ provider: "anthropic", apiKey: "x", baseUrl: mock.baseUrls.anthropic }, "claude-sonnet-4-5");
  const started = performance.now();
  let directTokens = 0;
  for await (const part of streamText({ model, prompt: "go", maxRetries: 0 }).fullStream) if (part.type === "text-delta") directTokens++;
  const directRate = directTokens / ((performance.now() - started) / 1000);

  const replica = await startReplica();
  try {
    const token = await setUp(replica.server.url, mock);
    // A first short answer, so the subscriber is attached before the measured stream starts.
    enqueueAnswer(mock, "ready", 0);
    const chatId = await createChat(replica.server.url, token, "fast");
    await waitUntilIdle(replica.server, [chatId]);
    const sub = subscribe(replica.server.url, token, chatId, 1);
    await sub.ready;
    mock.enqueue({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
    // From the request that starts the run (acquisition included) to the last part received.
    const sentAt = performance.now();
    await api(replica.server.url, `/api/experimental/chats/${chatId}/messages`, token, { content: [{ type: "text", text: "go" }] });
    await sub.done;
    const rate = sub.tokens / ((sub.lastPartAt - sentAt) / 1000);
    console.log(`(a) one chat: direct ${Math.round(directRate)} tokens/s; through chatd to a WebSocket ${Math.round(rate)} tokens/s; ratio ${fmt(rate / directRate)}`);
    sub.close();
  } finally {
    await replica.server.close();
  }
}

async function benchB(mock: MockLlm): Promise<void> {
  await withPgDatabase("b", async (databaseUrl) => {
    const replica = await startReplica(databaseUrl);
    try {
      const token = await setUp(replica.server.url, mock);
      // Phase 1: create the chats and let their first (short) answer finish, so the measured runs
      // below start only once every subscriber has its snapshot.
      for (let i = 0; i < CHATS_B; i++) enqueueAnswer(mock, "ready", 0);
      const chatIds = await Promise.all(Array.from({ length: CHATS_B }, (_, i) => createChat(replica.server.url, token, `chat ${i}`)));
      await waitUntilIdle(replica.server, chatIds);
      const runs = await Promise.all(
        chatIds.map(async (chatId) => {
          const subs = [subscribe(replica.server.url, token, chatId, 1), subscribe(replica.server.url, token, chatId, 1)];
          await Promise.all(subs.map((sub) => sub.ready));
          return { chatId, recorder: recordPublished(replica.server, chatId), subs };
        }),
      );
      // Phase 2: every chat streams at once.
      for (let i = 0; i < CHATS_B; i++) mock.enqueue({ parts: [{ type: "text", text: words(WORDS_B) }], chunkDelayMs: CHUNK_DELAY_B_MS, usage: { input: 1, output: 1 } });
      let peakRss = 0;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
      await Promise.all(runs.map((run) => api(replica.server.url, `/api/experimental/chats/${run.chatId}/messages`, token, { content: [{ type: "text", text: "go" }] })));
      await Promise.all(runs.flatMap((run) => run.subs.map((s) => s.done)));
      clearInterval(sampler);
      const latencies: number[] = [];
      for (const run of runs) {
        for (const sub of run.subs) {
          for (const [key, at] of sub.arrivals) {
            const sent = run.recorder.published.get(key);
            if (sent !== undefined) latencies.push(at - sent);
          }
          sub.close();
        }
        run.recorder.stop();
      }
      latencies.sort((x, y) => x - y);
      console.log(
        `(b) ${CHATS_B} chats × 2 subscribers: ${latencies.length} parts; latency p50 ${fmt(pct(latencies, 50))} ms, p99 ${fmt(pct(latencies, 99))} ms; peak RSS ${Math.round(peakRss / 1024 / 1024)} MiB (server, mock and 400 clients in one process)`,
      );
    } finally {
      await replica.server.close();
    }
  });
}

async function waitUntilIdle(server: RunningServer, chatIds: string[]): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    const rows = await server.database.db.query.chats.findMany({ where: (c, { inArray }) => inArray(c.id, chatIds) });
    if (rows.every((row) => row.status === "waiting" || row.status === "error")) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("chats did not finish their first run");
}

async function benchC(mock: MockLlm): Promise<void> {
  await withPgDatabase("c", async (databaseUrl) => {
    const a = await startReplica(databaseUrl);
    const b = await startReplica(databaseUrl);
    try {
      const token = await setUp(a.server.url, mock);
      const local: number[] = [];
      const remote: number[] = [];
      for (let round = 0; round < 5; round++) {
        enqueueAnswer(mock, words(WORDS_C), CHUNK_DELAY_C_MS);
        const chatId = await createChat(a.server.url, token, `relay ${round}`);
        // Wait until it runs, to know which replica is local to it.
        let runner: RunningServer | undefined;
        for (let i = 0; i < 500 && !runner; i++) {
          const row = await a.server.database.db.query.chats.findFirst({ where: (c, { eq }) => eq(c.id, chatId) });
          if (row?.status === "running") runner = row.workerId === a.server.replicaId ? a.server : b.server;
          else await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (!runner) throw new Error("chat never ran");
        const other = runner === a.server ? b.server : a.server;
        const recorder = recordPublished(runner, chatId);
        const near = subscribe(runner.url, token, chatId);
        const far = subscribe(other.url, token, chatId);
        await Promise.all([near.done, far.done]);
        for (const [key, at] of near.arrivals) {
          const sent = recorder.published.get(key);
          if (sent !== undefined) local.push(at - sent);
        }
        for (const [key, at] of far.arrivals) {
          const sent = recorder.published.get(key);
          if (sent !== undefined) remote.push(at - sent);
        }
        near.close();
        far.close();
        recorder.stop();
      }
      local.sort((x, y) => x - y);
      remote.sort((x, y) => x - y);
      console.log(
        `(c) relay: local p50 ${fmt(pct(local, 50))} / p99 ${fmt(pct(local, 99))} ms; other replica p50 ${fmt(pct(remote, 50))} / p99 ${fmt(pct(remote, 99))} ms; added p50 ${fmt(pct(remote, 50) - pct(local, 50))} ms, p99 ${fmt(pct(remote, 99) - pct(local, 99))} ms (${remote.length} parts)`,
      );
    } finally {
      await b.server.close();
      await a.server.close();
    }
  });
}

const mock = await startMockLlm();
try {
  if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === "a") await benchA(mock);
  if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === "b") await benchB(mock);
  if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === "c") await benchC(mock);
} finally {
  await mock.close();
}
