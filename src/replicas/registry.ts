/**
 * This replica's row in `replicas`: written at start, heartbeated, removed on graceful stop.
 * Other replicas read it to find the relay address of the replica running a chat; a row whose
 * heartbeat is older than REPLICA_STALE_AFTER_MS belongs to a dead replica and is ignored/pruned.
 */
import os from "node:os";
import { eq, lt } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { replicas } from "../db/schema/index.js";
import type { Logger } from "../observability/logger.js";

/** Often enough that a dead replica is noticed within a few intervals, cheap at any scale. */
export const REPLICA_HEARTBEAT_INTERVAL_MS = 15_000;
/** Four missed heartbeats: a replica this quiet is gone. */
export const REPLICA_STALE_AFTER_MS = 4 * REPLICA_HEARTBEAT_INTERVAL_MS;

export class ReplicaRegistration {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly db: Database,
    private readonly log: Logger,
    private readonly info: { relayAddress: string; version: string },
  ) {}

  async start(): Promise<void> {
    await this.db.insert(replicas).values({
      id: this.id,
      hostname: os.hostname(),
      relayAddress: this.info.relayAddress,
      version: this.info.version,
    });
    await this.db.delete(replicas).where(lt(replicas.heartbeatAt, new Date(Date.now() - REPLICA_STALE_AFTER_MS)));
    this.#timer = setInterval(() => void this.#beat(), REPLICA_HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    try {
      await this.db.update(replicas).set({ heartbeatAt: new Date() }).where(eq(replicas.id, this.id));
    } catch (error) {
      this.log.warn({ err: error }, "replica heartbeat failed");
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.db.delete(replicas).where(eq(replicas.id, this.id));
  }
}
