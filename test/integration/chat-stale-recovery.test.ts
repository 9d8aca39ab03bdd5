/**
 * Stale recovery at the scale a killed replica leaves behind (found by the chaos run: a hundred
 * orphans were handed back one transaction each, the last ones seconds past their lease, and a
 * sweep queued behind any row another transaction held). A sweep recovers every expired lease in
 * batches, leaves live leases alone, and skips a row someone holds instead of waiting for it.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ChatEventHub } from "../../src/chatd/events.js";
import { ChatWorker } from "../../src/chatd/worker.js";
import type { ChatHints } from "../../src/chats/hints.js";
import { chats } from "../../src/db/schema/index.js";
import { createPubsub } from "../../src/pubsub/index.js";
import { recoverStaleChats, STALE_RECOVERY_BATCH } from "../../src/chats/state.js";
import { lockChat } from "../../src/chats/store.js";
import { transaction } from "../../src/db/transaction.js";
import { useFreshDatabase } from "../helpers/database.js";
import { chatFixture, chatIn, recordingHints, reloadChat } from "../helpers/chats.js";
import { testDatabaseKind } from "../helpers/env.js";
import { deferred } from "../helpers/wait.js";

const database = useFreshDatabase();
const LEASE_MS = 5 * 60_000;
const expired = () => new Date(Date.now() - 2 * LEASE_MS);
const staleBefore = () => new Date(Date.now() - LEASE_MS);
/** Far longer than a sweep of two chats takes; a sweep waiting on the held row never ends in it. */
const SWEEP_DEADLINE_MS = 5_000;

describe("stale recovery", () => {
  it("hands back more expired leases than one batch holds in one call, and no live one", async () => {
    const db = database.handle.db;
    const fixture = await chatFixture(db);
    const dead = randomUUID();
    const orphans = [];
    for (let i = 0; i < STALE_RECOVERY_BATCH + 10; i++) orphans.push(await chatIn(db, fixture, "running", { workerId: dead, heartbeatAt: expired() }));
    const live = await chatIn(db, fixture, "running", { workerId: randomUUID() });

    const hints = recordingHints();
    const recovered = await recoverStaleChats(db, hints, staleBefore());

    expect(new Set(recovered)).toEqual(new Set(orphans.map((chat) => chat.id)));
    expect((await reloadChat(db, live.id)).status).toBe("running");
    for (const chat of orphans.slice(0, 3)) expect(await reloadChat(db, chat.id)).toMatchObject({ status: "pending", workerId: null, heartbeatAt: null });
    // Every handed-back chat is announced to its viewers.
    expect(hints.streams.filter((entry) => entry.hint.status === "pending")).toHaveLength(orphans.length);
  }, 60_000);

  // PGlite has one session: nothing else can hold a row while the sweep runs.
  it.runIf(testDatabaseKind() === "postgres")("skips a chat another transaction holds instead of waiting for it", async () => {
    const db = database.handle.db;
    const fixture = await chatFixture(db);
    const held = await chatIn(db, fixture, "running", { workerId: randomUUID(), heartbeatAt: expired() });
    const free = await chatIn(db, fixture, "running", { workerId: randomUUID(), heartbeatAt: expired() });
    const locked = deferred();
    const release = deferred();
    const holder = transaction(db, async (tx) => {
      await lockChat(tx, held.id);
      locked.resolve();
      await release.promise;
    });
    await locked.promise;
    try {
      const deadline = new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), SWEEP_DEADLINE_MS).unref());
      const recovered = await Promise.race([recoverStaleChats(db, recordingHints(), staleBefore()), deadline]);
      expect(recovered).toEqual([free.id]);
    } finally {
      release.resolve();
      await holder;
    }
    // The held chat is handed back by the next sweep.
    expect(await recoverStaleChats(db, recordingHints(), staleBefore())).toEqual([held.id]);
  });

  // A sweep is held open mid-transaction while another connection writes: PostgreSQL only.
  it.runIf(testDatabaseKind() === "postgres")("a sweep asked for during another recovers what went stale after that one began", async () => {
    const db = database.handle.db;
    const fixture = await chatFixture(db);
    const first = await chatIn(db, fixture, "running", { workerId: randomUUID(), heartbeatAt: expired() });
    const later = await chatIn(db, fixture, "running", { workerId: randomUUID() });
    const inSweep = deferred();
    const release = deferred();
    const recorded = recordingHints();
    const hints: ChatHints = {
      ...recorded,
      // Holds the first sweep inside its transaction, after it chose what to recover.
      stream: async (tx, chatId, hint) => {
        if (chatId === first.id && hint.status === "pending") {
          inSweep.resolve();
          await release.promise;
        }
        return recorded.stream(tx, chatId, hint);
      },
    };
    const pubsub = createPubsub(database.handle, { onError: () => undefined });
    const worker = new ChatWorker({
      db,
      pubsub,
      hints,
      hub: new ChatEventHub(),
      log: pino({ level: "silent" }),
      workerId: randomUUID(),
      settings: { acquireIntervalMs: 60_000, acquireBatchSize: 10, heartbeatIntervalMs: 60_000, staleAfterMs: LEASE_MS, maxRunningChats: 0 },
      runner: async () => ({ status: "waiting" }),
    });
    try {
      const firstSweep = worker.recoverStale();
      await inSweep.promise;
      await db.update(chats).set({ heartbeatAt: expired() }).where(eq(chats.id, later.id));
      const secondSweep = worker.recoverStale();
      release.resolve();
      await Promise.all([firstSweep, secondSweep]);
      expect((await reloadChat(db, first.id)).status).toBe("pending");
      expect((await reloadChat(db, later.id)).status).toBe("pending");
    } finally {
      release.resolve();
      await pubsub.close();
    }
  });
});
