/**
 * Pubsub on the embedded PGlite session. NOTIFY and LISTEN run on the one session the whole
 * process shares, so a NOTIFY inside a transaction is held by PostgreSQL until COMMIT, exactly as
 * on a server.
 *
 * Deliberately not `pglite.listen()`/`unlisten()` (checked in @electric-sql/pglite 0.5.16): they
 * key callbacks by the channel with its outer quotes stripped but inner `""` left doubled, so a
 * channel containing `"` never reaches its callback, and the function `listen()` returns runs
 * UNLISTEN with the unquoted name, a syntax error for `chat:stream:<uuid>`. Instead one
 * `onNotification` callback per instance dispatches by exact channel name, and LISTEN/UNLISTEN
 * are issued here with proper quoting.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { Database, Transaction } from "../db/client.js";
import {
  errorReporter,
  quoteIdentifier,
  validateChannel,
  notify,
  type Pubsub,
  type PubsubHandler,
  type PubsubOptions,
} from "./pubsub.js";
import { SubscriberRegistry, type Subscriber } from "./registry.js";

interface SessionChannel {
  /** Subscribers on this session, across every PglitePubsub instance. */
  count: number;
  /** True once LISTEN succeeded and until UNLISTEN is issued. */
  listening: boolean;
  /** Tail of this channel's LISTEN/UNLISTEN chain, so they reach the session in order. */
  tail: Promise<void>;
}

/**
 * LISTEN state is per session, not per pubsub instance: if two instances shared a PGlite, one
 * dropping its last subscriber must not UNLISTEN a channel the other still needs. So the
 * reference count lives here, keyed by the session.
 */
const sessions = new WeakMap<PGlite, Map<string, SessionChannel>>();

function sessionChannels(pglite: PGlite): Map<string, SessionChannel> {
  let channels = sessions.get(pglite);
  if (!channels) {
    channels = new Map();
    sessions.set(pglite, channels);
  }
  return channels;
}

/** Runs `op` after the channel's earlier LISTEN/UNLISTEN; a failure does not stop later ones. */
function enqueue(entry: SessionChannel, op: () => Promise<void>): Promise<void> {
  const run = entry.tail.then(op);
  entry.tail = run.catch(() => undefined);
  return run;
}

/**
 * Adds a subscriber to the session's count; resolves once the channel is LISTENed, with the entry
 * the subscriber holds a reference on (released with exactly that entry).
 */
async function acquire(pglite: PGlite, channel: string): Promise<SessionChannel> {
  const channels = sessionChannels(pglite);
  let entry = channels.get(channel);
  if (!entry) {
    entry = { count: 0, listening: false, tail: Promise.resolve() };
    channels.set(channel, entry);
  }
  const current = entry;
  current.count += 1;
  try {
    if (current.count === 1) {
      await enqueue(current, async () => {
        await pglite.exec(`LISTEN ${quoteIdentifier(channel)}`);
        current.listening = true;
      });
    } else {
      // Another subscriber's LISTEN may still be in flight; this one is live once it finished.
      await current.tail;
      if (!current.listening) throw new Error(`pubsub: LISTEN on channel ${channel} failed`);
    }
  } catch (error) {
    await release(pglite, channel, current);
    throw error;
  }
  return current;
}

/** Removes a subscriber from the session's count; the last one out UNLISTENs. */
async function release(pglite: PGlite, channel: string, entry: SessionChannel): Promise<void> {
  const channels = sessionChannels(pglite);
  entry.count -= 1;
  if (entry.count > 0) return;
  if (!entry.listening || pglite.closed) {
    if (channels.get(channel) === entry) channels.delete(channel);
    return;
  }
  entry.listening = false;
  try {
    // The entry stays in the map until UNLISTEN ran, so a new subscriber's LISTEN queues behind
    // it instead of racing it (an UNLISTEN landing after that LISTEN would leave it deaf).
    await enqueue(entry, () => pglite.exec(`UNLISTEN ${quoteIdentifier(channel)}`).then(() => undefined));
  } finally {
    if (entry.count === 0 && channels.get(channel) === entry) channels.delete(channel);
  }
}

export class PglitePubsub implements Pubsub {
  private readonly registry: SubscriberRegistry;
  private readonly stopNotifications: () => void;
  /** The session reference each live subscriber holds. */
  private readonly held = new Map<Subscriber, SessionChannel>();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly pglite: PGlite,
    options: PubsubOptions = {},
  ) {
    this.registry = new SubscriberRegistry(errorReporter(options));
    this.stopNotifications = pglite.onNotification((channel, payload) => {
      this.registry.deliver(channel, { type: "message", payload });
    });
  }

  async publish(channel: string, payload: string, tx?: Transaction): Promise<void> {
    if (this.closed) throw new Error("pubsub: closed");
    await notify(tx ?? this.db, channel, payload);
  }

  /**
   * Do not await this inside a transaction: LISTEN needs the single session, which the open
   * transaction holds until it ends, so it would wait forever.
   */
  async subscribe(channel: string, handler: PubsubHandler): Promise<() => Promise<void>> {
    validateChannel(channel);
    if (this.closed) throw new Error("pubsub: closed");
    const subscriber = this.registry.add(channel, handler);
    let entry: SessionChannel;
    try {
      entry = await acquire(this.pglite, channel);
    } catch (error) {
      this.registry.remove(subscriber);
      throw error;
    }
    if (!subscriber.active) {
      // close() ran while LISTEN was in flight and only released live subscribers' references.
      await release(this.pglite, channel, entry);
      throw new Error("pubsub: closed");
    }
    subscriber.live = true;
    this.held.set(subscriber, entry);
    return async () => {
      if (!subscriber.active) return;
      this.registry.remove(subscriber);
      this.held.delete(subscriber);
      await release(this.pglite, channel, entry);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopNotifications();
    this.registry.clear();
    // Give back every live subscriber's reference so the session UNLISTENs what nobody else needs.
    const held = [...this.held];
    this.held.clear();
    await Promise.allSettled(held.map(([subscriber, entry]) => release(this.pglite, subscriber.channel, entry)));
  }
}
