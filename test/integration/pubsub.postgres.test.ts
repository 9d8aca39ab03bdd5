/**
 * The PostgreSQL listener connection: losing it, reconnecting, and closing it. PostgreSQL only
 * (PGlite has no connection to lose); the shared pubsub behaviour is in pubsub.test.ts.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/raw.js";
import {
  createPubsub,
  LISTENER_APPLICATION_NAME,
  PostgresPubsub,
  type Pubsub,
  type PubsubMessage,
  type PubsubOptions,
} from "../../src/pubsub/index.js";
import { useFreshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { waitFor } from "../helpers/wait.js";

const onPostgres = testDatabaseKind() === "postgres";
const database = useFreshDatabase();
let dbPubsub: Pubsub;
const reported: Array<{ error: unknown; context: string }> = [];
const options: PubsubOptions = { onError: (error, context) => reported.push({ error, context }) };

beforeAll(() => {
  dbPubsub = createPubsub(database.handle, options);
});
afterAll(async () => {
  await dbPubsub?.close();
});

function newChannel(): string {
  return `chat:stream:${randomUUID()}`;
}

const message = (payload: string): PubsubMessage => ({ type: "message", payload });

class Inbox {
  readonly messages: PubsubMessage[] = [];
  readonly handler = (received: PubsubMessage): void => {
    this.messages.push(received);
  };
  hasMissed(): boolean {
    return this.messages.some((received) => received.type === "missed");
  }
  waitForPayload(payload: string): Promise<void> {
    return waitFor(() => this.messages.some((m) => m.type === "message" && m.payload === payload), {
      message: `payload ${payload}`,
    });
  }
}

describe("pubsub: the PostgreSQL listener connection", () => {
  it.runIf(onPostgres)("signals missed after the listener is killed, then keeps delivering", async () => {
    const channel = newChannel();
    const inbox = new Inbox();
    const unsubscribe = await dbPubsub.subscribe(channel, inbox.handler);
    await dbPubsub.publish(channel, "before");
    await inbox.waitForPayload("before");
    const reportedBefore = reported.length;
    expect(await terminateListeners()).toBeGreaterThan(0);
    await waitFor(() => inbox.hasMissed(), { message: "missed" });
    expect(reported.length).toBeGreaterThan(reportedBefore);
    await dbPubsub.publish(channel, "after");
    await inbox.waitForPayload("after");
    expect(inbox.messages).toEqual([message("before"), { type: "missed" }, message("after")]);
    await unsubscribe();
  });

  it.runIf(onPostgres)("lets a subscribe made while the listener is down complete once it is back", async () => {
    const live = newChannel();
    const liveInbox = new Inbox();
    const unsubscribeLive = await dbPubsub.subscribe(live, liveInbox.handler);
    const reportedBefore = reported.length;
    expect(await terminateListeners()).toBeGreaterThan(0);
    // Pubsub reports the loss when it notices it, then waits RECONNECT_INITIAL_DELAY_MS: subscribing
    // right after the report lands in that window.
    await waitFor(() => reported.length > reportedBefore, { message: "connection loss reported" });
    const late = newChannel();
    const lateInbox = new Inbox();
    const unsubscribeLate = await dbPubsub.subscribe(late, lateInbox.handler);
    await dbPubsub.publish(late, "hello");
    await lateInbox.waitForPayload("hello");
    // It was not subscribed before the loss, so it has missed nothing.
    expect(lateInbox.messages).toEqual([message("hello")]);
    await waitFor(() => liveInbox.hasMissed(), { message: "missed" });
    await unsubscribeLate();
    await unsubscribeLive();
  });

  it.runIf(onPostgres)("rejects a subscribe after its timeout while PostgreSQL is unreachable", async () => {
    const failures: string[] = [];
    // Port 1 refuses connections at once, so each attempt fails fast and the backoff is visible.
    const unreachable = new PostgresPubsub(
      database.handle.db,
      { connectionString: "postgres://postgres@127.0.0.1:1/nowhere" },
      { subscribeTimeoutMs: 400, onError: (_error, context) => failures.push(context) },
    );
    await expect(unreachable.subscribe(newChannel(), () => undefined)).rejects.toThrow(/within 400 ms/);
    // Attempts at 0, 100 and 300 ms: it kept retrying, with growing delays.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures[0]).toMatch(/reconnecting in 100 ms/);
    expect(failures[1]).toMatch(/reconnecting in 200 ms/);
    // close() stops the retry timer; a leaked timer would keep reporting.
    await unreachable.close();
    const count = failures.length;
    const late = await new Promise<number>((resolve) => setTimeout(() => resolve(failures.length), 500));
    expect(late).toBe(count);
  });

  it.runIf(onPostgres)("rejects a pending subscribe when closed while connecting", async () => {
    const other = createPubsub(database.handle, options);
    // The expectation is attached before close() so the rejection is never unhandled.
    const rejected = expect(other.subscribe(newChannel(), () => undefined)).rejects.toThrow(/closed/);
    await other.close();
    await rejected;
  });

  it.runIf(onPostgres)("ends its listener connection on close", async () => {
    const before = await listenerCount();
    const other = createPubsub(database.handle, options);
    await other.subscribe(newChannel(), () => undefined);
    expect(await listenerCount()).toBe(before + 1);
    await other.close();
    // The server drops the backend from pg_stat_activity shortly after the socket closes.
    await waitFor(async () => (await listenerCount()) === before, { message: "listener gone" });
  });
});

/** Kills this database's pubsub listener connections, as a server restart or failover would. */
async function terminateListeners(): Promise<number> {
  const rows = await queryRows(
    database.handle.db,
    sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()`,
  );
  return rows.length;
}

async function listenerCount(): Promise<number> {
  const rows = await queryRows(
    database.handle.db,
    sql`SELECT count(*) AS n FROM pg_stat_activity
        WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()`,
  );
  return Number(rows[0]?.n);
}
