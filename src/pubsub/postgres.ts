/**
 * Pubsub on PostgreSQL. Publishing is `pg_notify` on the pool (or the caller's transaction, so
 * PostgreSQL holds the message until COMMIT). Listening uses ONE dedicated connection, never a
 * pool one: LISTEN belongs to a session, and a pooled connection is handed to other queries.
 *
 * When that connection dies it is replaced with exponential backoff; once the new one has
 * re-LISTENed every channel that still has subscribers, those subscribers get `missed` because
 * notifications sent in between are gone for good.
 *
 * subscribe() resolves only when its LISTEN is active on a live connection. While the listener is
 * down it waits for the reconnect, up to SUBSCRIBE_TIMEOUT_MS, then rejects: a caller told
 * "subscribed" must really be receiving, and a failure it can see (e.g. answer 503) beats a
 * stream that silently never updates.
 */
import pg from "pg";
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
import { SubscriberRegistry } from "./registry.js";

/** Names the listener in pg_stat_activity, so operators (and tests) can tell it from pool ones. */
export const LISTENER_APPLICATION_NAME = "chatd-pubsub-listener";
/** First reconnect delay: a restarting server is not hammered, yet a blip costs only ~100 ms. */
export const RECONNECT_INITIAL_DELAY_MS = 100;
/** Backoff cap: a database that comes back is noticed within seconds. */
export const RECONNECT_MAX_DELAY_MS = 5_000;
/** How long subscribe() waits for a listener connection by default; as the pool's wait in db/client.ts. */
export const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** A hung connection attempt must fail, or the reconnect loop would stall on it. */
const CONNECT_TIMEOUT_MS = 10_000;
/** An idle listener sends nothing, so only TCP keepalive notices a silently dropped connection. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export interface PostgresPubsubOptions extends PubsubOptions {
  /** Overrides SUBSCRIBE_TIMEOUT_MS. */
  subscribeTimeoutMs?: number;
}

export function nextReconnectDelay(delayMs: number): number {
  return Math.min(delayMs * 2, RECONNECT_MAX_DELAY_MS);
}

export class PostgresPubsub implements Pubsub {
  private readonly registry: SubscriberRegistry;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly subscribeTimeoutMs: number;
  /** The current connection, connecting or connected; undefined while waiting to reconnect. */
  private client: pg.Client | undefined;
  /** `client` once connected and LISTENing to every channel that had subscribers then. */
  private ready: pg.Client | undefined;
  /** Channels LISTENed on `ready`. */
  private listening = new Set<string>();
  /** Per channel, the tail of its LISTEN/UNLISTEN chain, so they reach the server in order. */
  private readonly channelOps = new Map<string, Promise<void>>();
  /** subscribe() calls waiting for the next `ready` connection. */
  private readonly readyWaiters = new Set<() => void>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Tail of the listener connection's queries: pg wants one at a time per client. */
  private clientQueue: Promise<unknown> = Promise.resolve();
  private delayMs = RECONNECT_INITIAL_DELAY_MS;
  private started = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly connection: pg.ClientConfig,
    options: PostgresPubsubOptions = {},
  ) {
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? SUBSCRIBE_TIMEOUT_MS;
    this.onError = errorReporter(options);
    this.registry = new SubscriberRegistry(this.onError);
  }

  async publish(channel: string, payload: string, tx?: Transaction): Promise<void> {
    if (this.closed) throw new Error("pubsub: closed");
    await notify(tx ?? this.db, channel, payload);
  }

  async subscribe(channel: string, handler: PubsubHandler): Promise<() => Promise<void>> {
    validateChannel(channel);
    if (this.closed) throw new Error("pubsub: closed");
    const subscriber = this.registry.add(channel, handler);
    // Connect on first use: processes that only publish (or never use pubsub) hold no listener.
    if (!this.started) {
      this.started = true;
      this.connect();
    }
    try {
      await this.untilListening(channel, Date.now() + this.subscribeTimeoutMs);
    } catch (error) {
      this.registry.remove(subscriber);
      void this.sync(channel);
      throw error;
    }
    subscriber.live = true;
    return async () => {
      if (!subscriber.active) return;
      this.registry.remove(subscriber);
      await this.sync(channel);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.registry.clear();
    this.wakeWaiters();
    const client = this.client;
    this.client = undefined;
    this.ready = undefined;
    this.listening = new Set();
    await client?.end().catch(() => undefined);
  }

  private async untilListening(channel: string, deadline: number): Promise<void> {
    for (;;) {
      if (this.closed) throw new Error("pubsub: closed");
      if (Date.now() >= deadline) {
        throw this.timeoutError();
      }
      if (!this.ready) {
        await this.nextReady(deadline);
        continue;
      }
      await this.sync(channel);
      // Not listening after a sync on a ready connection means its LISTEN failed and the
      // connection is being replaced: loop and wait for the next one.
      if (this.ready && this.listening.has(channel)) return;
    }
  }

  /** Resolves when a connection becomes ready or pubsub closes; rejects at the deadline. */
  private nextReady(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters.delete(wake);
        reject(this.timeoutError());
      }, deadline - Date.now());
      const wake = () => {
        clearTimeout(timer);
        this.readyWaiters.delete(wake);
        resolve();
      };
      this.readyWaiters.add(wake);
    });
  }

  private timeoutError(): Error {
    return new Error(`pubsub: no listener connection to PostgreSQL within ${this.subscribeTimeoutMs} ms`);
  }

  private wakeWaiters(): void {
    for (const wake of [...this.readyWaiters]) wake();
  }

  /** Brings the channel's LISTEN state on the ready connection in line with its subscribers. */
  private sync(channel: string): Promise<void> {
    const next = (this.channelOps.get(channel) ?? Promise.resolve()).then(() => this.reconcile(channel));
    this.channelOps.set(channel, next);
    void next.then(() => {
      if (this.channelOps.get(channel) === next) this.channelOps.delete(channel);
    });
    return next;
  }

  /** Never rejects: a failure is handled by replacing the connection. */
  private async reconcile(channel: string): Promise<void> {
    const client = this.ready;
    // Without a ready connection there is nothing to do: the next one LISTENs what is wanted then.
    if (!client) return;
    const wanted = this.registry.has(channel);
    if (wanted === this.listening.has(channel)) return;
    try {
      await this.exclusive(() => client.query(`${wanted ? "LISTEN" : "UNLISTEN"} ${quoteIdentifier(channel)}`));
    } catch (error) {
      // This connection's LISTEN state is now unknown; only a fresh one is trustworthy.
      this.connectionLost(client, error);
      return;
    }
    if (client !== this.ready) return;
    if (wanted) this.listening.add(channel);
    else this.listening.delete(channel);
  }

  /** Runs `query` after every query already sent on the listener connection. */
  private exclusive<T>(query: () => Promise<T>): Promise<T> {
    const run = this.clientQueue.then(query, query);
    this.clientQueue = run.catch(() => undefined);
    return run;
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const client = new pg.Client({
      ...this.connection,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    this.client = client;
    // Without an 'error' listener a dying socket would crash the process; both events mean the
    // same to us (connectionLost ignores the second one).
    client.on("error", (error) => this.connectionLost(client, error));
    client.on("end", () => this.connectionLost(client, new Error("listener connection ended")));
    client.on("notification", (notification) => {
      if (client !== this.client) return;
      this.registry.deliver(notification.channel, { type: "message", payload: notification.payload ?? "" });
    });
    void client.connect().then(
      () => this.listenAll(client),
      (error: unknown) => this.connectionLost(client, error),
    );
  }

  private async listenAll(client: pg.Client): Promise<void> {
    if (client !== this.client) return;
    const channels = this.registry.channelNames();
    try {
      if (channels.length > 0) await this.exclusive(() => client.query(channels.map((c) => `LISTEN ${quoteIdentifier(c)}`).join("; ")));
    } catch (error) {
      this.connectionLost(client, error);
      return;
    }
    if (client !== this.client) return;
    this.ready = client;
    this.listening = new Set(channels);
    this.delayMs = RECONNECT_INITIAL_DELAY_MS;
    // Only subscribers that were live before the loss can have missed anything (on the first
    // connection nobody is live yet, so this sends nothing).
    for (const channel of channels) this.registry.deliver(channel, { type: "missed" }, true);
    this.wakeWaiters();
    // Subscribers may have come or gone while the LISTENs were in flight.
    for (const channel of new Set([...channels, ...this.registry.channelNames()])) void this.sync(channel);
  }

  private connectionLost(client: pg.Client, error: unknown): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.ready = undefined;
    this.listening = new Set();
    // Releases the socket if pg has not already; a failure to end a dead connection is moot.
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.onError(error, `listener connection lost; reconnecting in ${this.delayMs} ms`);
    this.reconnectTimer = setTimeout(() => this.connect(), this.delayMs);
    this.delayMs = nextReconnectDelay(this.delayMs);
  }
}
