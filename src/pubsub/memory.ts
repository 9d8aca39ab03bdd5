/**
 * In-process pubsub: for tests and a single process. Messages never leave the process, so it
 * only fits one replica; the database-backed implementations carry messages between replicas.
 */
import type { Transaction } from "../db/client.js";
import { afterCommit } from "../db/transaction.js";
import {
  errorReporter,
  validateChannel,
  validatePayload,
  type Pubsub,
  type PubsubHandler,
  type PubsubOptions,
} from "./pubsub.js";
import { SubscriberRegistry } from "./registry.js";

export class MemoryPubsub implements Pubsub {
  private readonly registry: SubscriberRegistry;
  private closed = false;

  constructor(options: PubsubOptions = {}) {
    this.registry = new SubscriberRegistry(errorReporter(options));
  }

  async publish(channel: string, payload: string, tx?: Transaction): Promise<void> {
    validateChannel(channel);
    validatePayload(payload);
    if (this.closed) throw new Error("pubsub: closed");
    const deliver = () => this.registry.deliver(channel, { type: "message", payload });
    // Like NOTIFY: inside a transaction, nothing is seen before COMMIT and nothing on rollback.
    // afterCommit throws for a transaction not opened by transaction(), which is a caller bug.
    if (tx) afterCommit(tx, deliver);
    else deliver();
  }

  async subscribe(channel: string, handler: PubsubHandler): Promise<() => Promise<void>> {
    validateChannel(channel);
    if (this.closed) throw new Error("pubsub: closed");
    const subscriber = this.registry.add(channel, handler);
    subscriber.live = true;
    return async () => this.registry.remove(subscriber);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.registry.clear();
  }
}
