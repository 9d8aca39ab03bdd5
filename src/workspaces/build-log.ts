/**
 * A build's log, appended to its row as output arrives. Writes are coalesced: while one UPDATE
 * is in flight, further output accumulates and goes in the next one, so a chatty script costs a
 * few queries a second rather than one per chunk.
 *
 * Invariants:
 * - The stored log never exceeds BUILD_LOG_LIMIT_BYTES plus one short truncation notice; output
 *   past the limit is dropped, not stored and cut later.
 * - NUL cannot be stored in PostgreSQL text; it is replaced with U+FFFD.
 * - A failed write is reported and dropped: a lost log line must not fail the build.
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { workspaceBuilds } from "../db/schema/index.js";

/** 1 MiB: a setup script's output worth reading; a runaway loop's output is not worth storing. */
export const BUILD_LOG_LIMIT_BYTES = 1024 * 1024;
const TRUNCATED_NOTICE = `\n[log truncated: the build log is limited to ${BUILD_LOG_LIMIT_BYTES / (1024 * 1024)} MiB]\n`;

export class BuildLogWriter {
  #pending = "";
  #storedBytes = 0;
  #truncated = false;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly buildId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  append(text: string): void {
    if (this.#truncated || text === "") return;
    const clean = text.replaceAll("\0", "\uFFFD");
    const bytes = Buffer.byteLength(clean, "utf8");
    const room = BUILD_LOG_LIMIT_BYTES - this.#storedBytes;
    if (bytes <= room) {
      this.#pending += clean;
      this.#storedBytes += bytes;
    } else {
      // Cutting at a byte offset may split a character; the decoder turns the stub into U+FFFD.
      this.#pending += Buffer.from(clean, "utf8").subarray(0, room).toString("utf8") + TRUNCATED_NOTICE;
      this.#storedBytes = BUILD_LOG_LIMIT_BYTES;
      this.#truncated = true;
    }
    this.#flushing ??= this.#drain();
  }

  /** Resolves once everything appended so far is stored (or its write failed and was reported). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending !== "") {
        const chunk = this.#pending;
        this.#pending = "";
        try {
          await this.db
            .update(workspaceBuilds)
            .set({ log: sql`${workspaceBuilds.log} || ${chunk}::text` })
            .where(eq(workspaceBuilds.id, this.buildId));
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
