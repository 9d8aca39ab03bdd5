/**
 * The pubsub contract every implementation honours, its limits, and the checks shared by all of
 * them (so a payload that would fail on PostgreSQL also fails in the in-memory tests).
 */
import { sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";

/**
 * `missed`: the implementation may have dropped messages for this channel (its listener
 * connection was lost and re-established), so the subscriber must re-read state from the database.
 */
export type PubsubMessage = { type: "message"; payload: string } | { type: "missed" };

export type PubsubHandler = (message: PubsubMessage) => void;

export interface Pubsub {
  /**
   * Sends `payload` to the channel's subscribers. With `tx` (opened by db/transaction.ts's
   * `transaction()`), delivery happens only after that transaction commits, and never on rollback.
   * Rejects, before touching the database, on an invalid channel or an oversize payload.
   */
  publish(channel: string, payload: string, tx?: Transaction): Promise<void>;
  /**
   * Resolves once the subscription is live: messages published after it resolves are delivered.
   * Returns the unsubscribe function; after it resolves the handler is never called again.
   */
  subscribe(channel: string, handler: PubsubHandler): Promise<() => Promise<void>>;
  /** Drops every subscription and releases connections; publish and subscribe then reject. */
  close(): Promise<void>;
}

export interface PubsubOptions {
  /**
   * Receives what pubsub cannot throw to anyone: a handler that threw, a lost listener
   * connection. Defaults to console.error, because swallowing them would hide real bugs.
   */
  onError?: (error: unknown, context: string) => void;
}

/**
 * PostgreSQL's NOTIFY rejects payloads of 8000 bytes or more ("payload string too long"). The
 * limit is checked on every implementation so code that passes with the in-memory pubsub does
 * not start failing in production.
 */
export const MAX_PAYLOAD_BYTES = 7999;

/**
 * PostgreSQL identifiers are at most 63 bytes (NAMEDATALEN - 1). A longer LISTEN name would be
 * silently truncated while pg_notify rejects it, so the two would never meet.
 */
export const MAX_CHANNEL_BYTES = 63;

export function validateChannel(channel: string): void {
  if (channel.length === 0) throw new Error("pubsub: channel name must not be empty");
  if (channel.includes("\0")) throw new Error("pubsub: channel name must not contain NUL");
  const bytes = Buffer.byteLength(channel, "utf8");
  if (bytes > MAX_CHANNEL_BYTES) {
    throw new Error(`pubsub: channel name is ${bytes} bytes, more than the ${MAX_CHANNEL_BYTES} PostgreSQL allows`);
  }
}

export function validatePayload(payload: string): void {
  // NUL cannot be stored in PostgreSQL text; reject it everywhere rather than only in production.
  if (payload.includes("\0")) throw new Error("pubsub: payload must not contain NUL");
  const bytes = Buffer.byteLength(payload, "utf8");
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new Error(`pubsub: payload is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES} NOTIFY allows`);
  }
}

/**
 * Quotes a channel for LISTEN/UNLISTEN, which take an identifier, not a parameter: channels like
 * `chat:stream:<uuid>` contain characters (and may contain case) that only survive quoting.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function defaultOnError(error: unknown, context: string): void {
  console.error(`pubsub: ${context}`, error);
}

/**
 * The options' error reporter, made safe to call from event handlers and microtasks: a reporter
 * that throws must not turn into an uncaught exception or stop a reconnect.
 */
export function errorReporter(options: PubsubOptions): (error: unknown, context: string) => void {
  const onError = options.onError ?? defaultOnError;
  return (error, context) => {
    try {
      onError(error, context);
    } catch {
      // Nowhere left to report to.
    }
  };
}

/**
 * Publishing for both database-backed implementations: `pg_notify` on the caller's transaction
 * (PostgreSQL holds it until COMMIT and drops it on rollback) or on the database.
 */
export async function notify(q: Queryable, channel: string, payload: string): Promise<void> {
  validateChannel(channel);
  validatePayload(payload);
  await q.execute(sql`SELECT pg_notify(${channel}, ${payload})`);
}
