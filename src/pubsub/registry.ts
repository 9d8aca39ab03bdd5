/**
 * Who is subscribed to what, and the one way messages reach handlers. Shared by every
 * implementation so delivery semantics (asynchronous, in order, isolated from throwing handlers)
 * cannot drift between the in-memory pubsub used in tests and the database-backed ones.
 */
import type { PubsubHandler, PubsubMessage } from "./pubsub.js";

export interface Subscriber {
  readonly channel: string;
  readonly handler: PubsubHandler;
  /** False once unsubscribed: deliveries already queued for it are then dropped. */
  active: boolean;
  /**
   * True once subscribe() resolved. Only live subscribers get `missed`: one still waiting for its
   * LISTEN has not read state yet, so it cannot have missed anything.
   */
  live: boolean;
}

export class SubscriberRegistry {
  private readonly channels = new Map<string, Set<Subscriber>>();

  constructor(private readonly onError: (error: unknown, context: string) => void) {}

  add(channel: string, handler: PubsubHandler): Subscriber {
    const subscriber: Subscriber = { channel, handler, active: true, live: false };
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(subscriber);
    return subscriber;
  }

  remove(subscriber: Subscriber): void {
    subscriber.active = false;
    const set = this.channels.get(subscriber.channel);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.channels.delete(subscriber.channel);
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** Deactivates and removes every subscriber; returns them so callers can release resources. */
  clear(): Subscriber[] {
    const removed: Subscriber[] = [];
    for (const set of this.channels.values()) {
      for (const subscriber of set) {
        subscriber.active = false;
        removed.push(subscriber);
      }
    }
    this.channels.clear();
    return removed;
  }

  /**
   * Queues `message` for the channel's current subscribers. Each handler runs in its own
   * microtask: the publisher (or the connection's parser) never runs subscriber code inline, and
   * because microtasks run in FIFO order, messages reach each subscriber in the order they were
   * delivered here.
   */
  deliver(channel: string, message: PubsubMessage, onlyLive = false): void {
    const set = this.channels.get(channel);
    if (!set) return;
    for (const subscriber of set) {
      if (onlyLive && !subscriber.live) continue;
      queueMicrotask(() => this.call(subscriber, message));
    }
  }

  private call(subscriber: Subscriber, message: PubsubMessage): void {
    if (!subscriber.active) return;
    const context = `handler for channel ${subscriber.channel} failed`;
    try {
      // The handler type says void, but an async function fits it; catch its rejection too, so it
      // is reported instead of crashing the process as an unhandled rejection.
      const result: unknown = subscriber.handler(message);
      if (result instanceof Promise) result.catch((error: unknown) => this.onError(error, context));
    } catch (error) {
      this.onError(error, context);
    }
  }
}
