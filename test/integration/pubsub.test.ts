import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transaction } from "../../src/db/client.js";
import { queryRows } from "../../src/db/raw.js";
import { transaction } from "../../src/db/transaction.js";
import {
  createPubsub,
  MemoryPubsub,
  type Pubsub,
  type PubsubMessage,
  type PubsubOptions,
} from "../../src/pubsub/index.js";
import { useFreshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { waitFor } from "../helpers/wait.js";

const kind = testDatabaseKind();
const database = useFreshDatabase();
let dbPubsub: Pubsub;
let memoryPubsub: Pubsub;
const reported: Array<{ error: unknown; context: string }> = [];
const options: PubsubOptions = { onError: (error, context) => reported.push({ error, context }) };

beforeAll(() => {
  dbPubsub = createPubsub(database.handle, options);
  memoryPubsub = new MemoryPubsub(options);
});
afterAll(async () => {
  await dbPubsub?.close();
  await memoryPubsub?.close();
});

function newChannel(prefix = "chat:stream"): string {
  return `${prefix}:${randomUUID()}`;
}

class Inbox {
  readonly messages: PubsubMessage[] = [];
  readonly handler = (received: PubsubMessage): void => {
    this.messages.push(received);
  };
  get payloads(): string[] {
    return this.messages.flatMap((received) => (received.type === "message" ? [received.payload] : []));
  }
  has(payload: string): boolean {
    return this.payloads.includes(payload);
  }
  waitForPayload(payload: string): Promise<void> {
    return waitFor(() => this.has(payload), { message: `payload ${payload.slice(0, 40)}` });
  }
}

interface Case {
  name: string;
  pubsub: () => Pubsub;
  /**
   * Whether something can be published outside an open transaction. Not on PGlite's own pubsub:
   * PGlite has one session, which the open transaction holds.
   */
  canPublishBesideTransaction: boolean;
}

const cases: Case[] = [
  { name: `${kind} (database)`, pubsub: () => dbPubsub, canPublishBesideTransaction: kind === "postgres" },
  { name: "memory", pubsub: () => memoryPubsub, canPublishBesideTransaction: true },
];

/**
 * Inside `tx`, after publishing `channel` through it: proves nothing of it has been delivered yet.
 * Where possible, a marker published outside the transaction on the same channel goes through:
 * had the transaction's message been released early, it would have arrived first (a channel keeps
 * order). On PGlite, notifications come back in the response to any query on the session and are
 * handed out in microtasks, so a round trip on the transaction followed by a macrotask turn would
 * have surfaced one.
 */
async function expectNothingYet(c: Case, tx: Transaction, channel: string, inbox: Inbox): Promise<string[]> {
  if (c.canPublishBesideTransaction) {
    await c.pubsub().publish(channel, "marker");
    await inbox.waitForPayload("marker");
    expect(inbox.payloads).toEqual(["marker"]);
    return ["marker"];
  }
  await tx.execute(sql`SELECT 1`);
  await new Promise((resolve) => setImmediate(resolve));
  expect(inbox.messages).toEqual([]);
  return [];
}

describe.each(cases)("pubsub: $name", (c) => {
  it("delivers a message published in a transaction only after commit", async () => {
    const channel = newChannel();
    const inbox = new Inbox();
    const unsubscribe = await c.pubsub().subscribe(channel, inbox.handler);
    let before: string[] = [];
    await transaction(database.handle.db, async (tx) => {
      await c.pubsub().publish(channel, "in transaction", tx);
      before = await expectNothingYet(c, tx, channel, inbox);
    });
    await inbox.waitForPayload("in transaction");
    expect(inbox.payloads).toEqual([...before, "in transaction"]);
    await unsubscribe();
  });

  it("delivers nothing from a rolled-back transaction", async () => {
    const channel = newChannel();
    const inbox = new Inbox();
    const unsubscribe = await c.pubsub().subscribe(channel, inbox.handler);
    await expect(
      transaction(database.handle.db, async (tx) => {
        await c.pubsub().publish(channel, "rolled back", tx);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    // Published after the rollback on the same channel: once it is here, anything released by the
    // rolled-back transaction would be too.
    await c.pubsub().publish(channel, "after");
    await inbox.waitForPayload("after");
    expect(inbox.payloads).toEqual(["after"]);
    await unsubscribe();
  });

  it("keeps publish order on a channel, inside and outside transactions", async () => {
    const channel = newChannel();
    const inbox = new Inbox();
    const unsubscribe = await c.pubsub().subscribe(channel, inbox.handler);
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const payload of sent.slice(0, 100)) await c.pubsub().publish(channel, payload);
    await transaction(database.handle.db, async (tx) => {
      for (const payload of sent.slice(100)) await c.pubsub().publish(channel, payload, tx);
    });
    await waitFor(() => inbox.messages.length >= sent.length, { message: "200 messages" });
    expect(inbox.payloads).toEqual(sent);
    await unsubscribe();
  });

  it("stops delivering after unsubscribe while other subscribers keep receiving", async () => {
    const channel = newChannel();
    const gone = new Inbox();
    const stays = new Inbox();
    const unsubscribeGone = await c.pubsub().subscribe(channel, gone.handler);
    const unsubscribeStays = await c.pubsub().subscribe(channel, stays.handler);
    await c.pubsub().publish(channel, "1");
    await gone.waitForPayload("1");
    await stays.waitForPayload("1");
    await unsubscribeGone();
    await c.pubsub().publish(channel, "2");
    // One notification is handed to all subscribers at once: had `gone` still been subscribed,
    // it would have "2" by the time `stays` has it.
    await stays.waitForPayload("2");
    expect(gone.payloads).toEqual(["1"]);
    expect(stays.payloads).toEqual(["1", "2"]);
    await unsubscribeStays();
  });

  it("carries a 7999-byte payload and rejects 8000 bytes before reaching the database", async () => {
    const channel = newChannel();
    const inbox = new Inbox();
    const unsubscribe = await c.pubsub().subscribe(channel, inbox.handler);
    const largest = `${"é".repeat(3999)}x`;
    await c.pubsub().publish(channel, largest);
    await inbox.waitForPayload(largest);
    await transaction(database.handle.db, async (tx) => {
      await expect(c.pubsub().publish(channel, "x".repeat(8000), tx)).rejects.toThrow(/8000 bytes/);
      // Had the NOTIFY reached PostgreSQL, it would have failed there and aborted the transaction.
      await tx.execute(sql`SELECT 1`);
    });
    await unsubscribe();
  });

  it("quotes channel names: case, colons and double quotes survive", async () => {
    const channel = `chat:"Quoted":${randomUUID()}`;
    const similar = channel.toLowerCase();
    const inbox = new Inbox();
    const unsubscribe = await c.pubsub().subscribe(channel, inbox.handler);
    await c.pubsub().publish(similar, "lowercase twin");
    await c.pubsub().publish(channel, "exact");
    await inbox.waitForPayload("exact");
    expect(inbox.payloads).toEqual(["exact"]);
    await unsubscribe();
  });
});

describe(`pubsub: ${kind} (database) only`, () => {
  it("keeps one LISTEN per channel on the session, shared across instances, until the last leaves", async () => {
    const channel = newChannel("chat:owner");
    const other = createPubsub(database.handle, options);
    const first = new Inbox();
    const second = new Inbox();
    const unsubscribeFirst = await dbPubsub.subscribe(channel, first.handler);
    const unsubscribeSecond = await other.subscribe(channel, second.handler);
    if (kind === "pglite") expect(await listeningChannels()).toContain(channel);
    await unsubscribeSecond();
    await other.close();
    // The other instance leaving must not UNLISTEN what this one still needs.
    if (kind === "pglite") expect(await listeningChannels()).toContain(channel);
    await dbPubsub.publish(channel, "still here");
    await first.waitForPayload("still here");
    expect(second.payloads).toEqual([]);
    await unsubscribeFirst();
    if (kind === "pglite") expect(await listeningChannels()).not.toContain(channel);
  });

  it("rejects publish and subscribe once closed", async () => {
    const closed = createPubsub(database.handle, options);
    await closed.close();
    await expect(closed.publish(newChannel(), "x")).rejects.toThrow(/closed/);
    await expect(closed.subscribe(newChannel(), () => undefined)).rejects.toThrow(/closed/);
  });
});

async function listeningChannels(): Promise<string[]> {
  const rows = await queryRows(database.handle.db, sql`SELECT pg_listening_channels() AS channel`);
  return rows.map((row) => String(row.channel));
}
