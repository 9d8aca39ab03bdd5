/**
 * The background loop (behavior.md section 8, `gitsync.Worker`): every tick (10 s by default,
 * `--gitsync-interval`), claim up to 50 stale rows and refresh them, each tick bounded by 30 s so
 * a hung GitHub cannot hold leases forever. Any number of replicas may run it: the claim's SKIP
 * LOCKED and lease keep them off each other's rows.
 */
import type { Logger } from "../observability/logger.js";
import type { GitSync } from "./sync.js";

/** behavior.md: a tick gives up after 30 s; its rows are postponed and retried later. */
export const TICK_TIMEOUT_MS = 30_000;

export class GitSyncWorker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(
    private readonly sync: GitSync,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tickOnce()
        .catch((error: unknown) => this.log.warn({ err: error instanceof Error ? error.message : String(error) }, "gitsync tick failed"))
        .finally(() => {
          this.#running = undefined;
          this.#schedule();
        });
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** One tick, bounded by TICK_TIMEOUT_MS and by stop(). */
  tickOnce(): Promise<{ claimed: number; refreshed: number }> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(TICK_TIMEOUT_MS)]);
    return this.sync.tick(signal);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running;
  }
}
