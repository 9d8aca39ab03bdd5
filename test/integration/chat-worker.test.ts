/**
 * The worker's races (the seeds'), with scripted runners on the real database and pubsub:
 * exceptions, shutdown at every moment of a run, lost leases, and buffering before `running`.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { chats } from "../../src/db/schema/index.js";
import pino from "pino";
import { pubsubHints, streamChannel } from "../../src/chats/hints.js";
import { createChat, interruptChat } from "../../src/chats/state.js";
import { promoteQueued, sendMessage } from "../../src/chats/queue.js";
import { messageParts, queuedMessages } from "../../src/chats/store.js";
import { decodeParts } from "../../src/chats/parts.js";
import { ChatEventHub } from "../../src/chatd/events.js";
import type { RunEnd } from "../../src/chatd/loop/run.js";
import { ChatWorker, type ChatRunner } from "../../src/chatd/worker.js";
import { createPubsub } from "../../src/pubsub/index.js";
import type { Pubsub } from "../../src/pubsub/pubsub.js";
import { useFreshDatabase } from "../helpers/database.js";
import { chatFixture, liveMessages, reloadChat, type ChatFixture } from "../helpers/chats.js";
import { deferred, waitFor } from "../helpers/wait.js";

const database = useFreshDatabase();
const workers: ChatWorker[] = [];
const pubsubs: Pubsub[] = [];
let fixture: ChatFixture | undefined;

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(pubsubs.splice(0).map((p) => p.close()));
  // Chats a test handed back as pending must not be picked up by the next test's worker.
  await database.handle.db.update(chats).set({ status: "waiting", workerId: null });
});

function makeWorker(runner: ChatRunner, overrides: { heartbeatIntervalMs?: number; maxRunningChats?: number } = {}) {
  const pubsub = createPubsub(database.handle, { onError: () => undefined });
  pubsubs.push(pubsub);
  const hub = new ChatEventHub();
  const worker = new ChatWorker({
    db: database.handle.db,
    pubsub,
    hints: pubsubHints(pubsub),
    hub,
    log: pino({ level: "silent" }),
    workerId: randomUUID(),
    settings: {
      // Long enough that only pokes and pending hints drive acquisition in these tests.
      acquireIntervalMs: 60_000,
      acquireBatchSize: 10,
      heartbeatIntervalMs: overrides.heartbeatIntervalMs ?? 60_000,
      staleAfterMs: 300_000,
      maxRunningChats: overrides.maxRunningChats ?? 0,
    },
    runner,
  });
  workers.push(worker);
  return { worker, hub, pubsub };
}

async function pendingChat() {
  fixture ??= await chatFixture(database.handle.db);
  const { chat } = await createChat(database.handle.db, pubsubHints(createPubsubless()), {
    ownerId: fixture.ownerId,
    title: "t",
    modelConfigId: fixture.modelConfigId,
    messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: fixture.ownerId }],
  });
  return chat;
}

/** Chats are created without waking anyone: each test starts its worker explicitly. */
function createPubsubless(): Pubsub {
  return { publish: async () => undefined, subscribe: async () => async () => undefined, close: async () => undefined };
}

const statusOf = async (id: string) => (await reloadChat(database.handle.db, id)).status;

describe("chat worker", () => {
  it("an exception in a run ends the chat in error with 'chat processing panicked: …'", async () => {
    const chat = await pendingChat();
    const { worker } = makeWorker(async () => {
      throw new Error("boom");
    });
    await worker.start();
    await waitFor(async () => (await statusOf(chat.id)) === "error", { message: "error status" });
    expect((await reloadChat(database.handle.db, chat.id)).lastError).toBe("chat processing panicked: boom");
  });

  it("shutdown during a run (a tool call waiting on the signal) hands the chat back as pending", async () => {
    const chat = await pendingChat();
    const inTool = deferred();
    const { worker } = makeWorker(async (_chat, control) => {
      inTool.resolve();
      await new Promise((resolve) => control.signal.addEventListener("abort", resolve, { once: true }));
      const end: RunEnd = control.cause() === "shutdown" ? { status: "pending", reason: "shutdown" } : { status: "waiting" };
      return end;
    });
    await worker.start();
    await inTool.promise;
    await worker.stop();
    const row = await reloadChat(database.handle.db, chat.id);
    expect([row.status, row.workerId, row.lastError]).toEqual(["pending", null, null]);
  });

  it("a run that finishes as shutdown begins is handed back as pending, not waiting", async () => {
    const chat = await pendingChat();
    const started = deferred();
    const release = deferred();
    const { worker } = makeWorker(async () => {
      started.resolve();
      await release.promise;
      return { status: "waiting" };
    });
    await worker.start();
    await started.promise;
    const stopping = worker.stop();
    release.resolve();
    await stopping;
    expect(await statusOf(chat.id)).toBe("pending");
  });

  it("chats acquired as shutdown begins go straight back to pending without running", async () => {
    const chats = [await pendingChat(), await pendingChat()];
    let runs = 0;
    const { worker } = makeWorker(async () => {
      runs++;
      return { status: "waiting" };
    });
    // Start the acquire pass, then begin shutdown before it returns.
    worker.poke();
    await worker.stop();
    expect(runs).toBe(0);
    for (const chat of chats) expect(await statusOf(chat.id)).toBe("pending");
  });

  it("an interrupt hint stops the run as an interrupt, and the chat stays waiting", async () => {
    const chat = await pendingChat();
    const causes: string[] = [];
    const running = deferred();
    const { worker } = makeWorker(async (_chat, control) => {
      running.resolve();
      await new Promise((resolve) => control.signal.addEventListener("abort", resolve, { once: true }));
      causes.push(control.cause());
      return { status: "waiting" };
    });
    await worker.start();
    await running.promise;
    await interruptChat(database.handle.db, pubsubHints(pubsubs[0] ?? createPubsubless()), chat.id);
    await waitFor(() => causes.length === 1, { message: "run stopped" });
    expect(causes).toEqual(["interrupt"]);
    await waitFor(() => worker.runningCount === 0, { message: "run finished" });
    expect(await statusOf(chat.id)).toBe("waiting");
  });

  it("a lost lease (heartbeat touches no row) stops the run", async () => {
    const chat = await pendingChat();
    const running = deferred();
    const stoppedBy: string[] = [];
    const { worker } = makeWorker(
      async (_chat, control) => {
        running.resolve();
        await new Promise((resolve) => control.signal.addEventListener("abort", resolve, { once: true }));
        stoppedBy.push(control.cause());
        return { status: "waiting" };
      },
      { heartbeatIntervalMs: 20 },
    );
    await worker.start();
    await running.promise;
    // Another replica takes the chat over (e.g. after stale recovery); no hint reaches us.
    await database.handle.db.update(chats).set({ workerId: randomUUID() }).where(eq(chats.id, chat.id));
    await waitFor(() => stoppedBy.length === 1, { message: "heartbeat noticed" });
    expect(stoppedBy).toEqual(["interrupt"]);
    await waitFor(() => worker.runningCount === 0, { message: "run finished" });
    expect(await statusOf(chat.id)).toBe("running");
  });

  it("buffering is on before `running` is announced", async () => {
    const chat = await pendingChat();
    const release = deferred();
    const { worker, hub, pubsub } = makeWorker(async () => {
      await release.promise;
      return { status: "waiting" };
    });
    const seen: boolean[] = [];
    const unsubscribe = await pubsub.subscribe(streamChannel(chat.id), (message) => {
      if (message.type === "message" && message.payload.includes('"running"')) seen.push(hub.isBuffering(chat.id));
    });
    await worker.start();
    await waitFor(() => seen.length === 1, { message: "running hint" });
    expect(seen).toEqual([true]);
    release.resolve();
    await unsubscribe();
  });

  it("promoting while a chat runs inserts exactly that message; the queue is not drained", async () => {
    const chat = await pendingChat();
    let runs = 0;
    const { worker, pubsub } = makeWorker(async (_chat, control) => {
      runs++;
      await new Promise((resolve) => control.signal.addEventListener("abort", resolve, { once: true }));
      return control.cause() === "shutdown" ? { status: "pending", reason: "shutdown" } : { status: "waiting" };
    });
    await worker.start();
    await waitFor(() => runs === 1, { message: "first run" });
    const hints = pubsubHints(pubsub);
    for (const text of ["one", "two", "three"]) {
      await sendMessage(database.handle.db, hints, { chatId: chat.id, parts: [{ type: "text", text }], createdBy: chat.ownerId, behavior: "queue" });
    }
    const [, second] = await queuedMessages(database.handle.db, chat.id);
    await promoteQueued(database.handle.db, hints, { chatId: chat.id, queuedId: second?.id ?? 0 });
    await waitFor(() => runs === 2, { message: "second run" });
    await waitFor(async () => (await statusOf(chat.id)) === "running", { message: "running again" });
    const history = await liveMessages(database.handle.db, chat.id);
    expect(history.map((m) => messageParts(m)[0]?.text)).toEqual(["hi", "two"]);
    expect((await queuedMessages(database.handle.db, chat.id)).map((q) => decodeParts(q.content)[0]?.text)).toEqual(["one", "three"]);
    expect(worker.runningCount).toBe(1);
  });

  it("runs at most max-running-chats at once; the rest wait as pending until a slot frees", async () => {
    const chats = [await pendingChat(), await pendingChat(), await pendingChat()];
    const releases: Array<() => void> = [];
    const { worker } = makeWorker(
      async () => {
        await new Promise<void>((resolve) => releases.push(resolve));
        return { status: "waiting" };
      },
      { maxRunningChats: 2 },
    );
    await worker.start();
    await waitFor(() => releases.length === 2, { message: "two runs" });
    const statuses = await Promise.all(chats.map((c) => statusOf(c.id)));
    expect(statuses.filter((s) => s === "running")).toHaveLength(2);
    expect(statuses.filter((s) => s === "pending")).toHaveLength(1);
    releases[0]?.();
    await waitFor(() => releases.length === 3, { message: "third run after a slot freed" });
    expect(worker.runningCount).toBe(2);
    for (const release of releases) release();
  });
});
