/**
 * Watches the leases of every chat while replicas are killed: which chats each kill orphaned,
 * how long each stayed orphaned until another replica acquired it (its new lease's start, by
 * the database clock, minus the moment of the kill), and the oldest heartbeat of any running
 * chat ever seen (a chat whose lease nobody renews is stuck). Reads the database on an interval;
 * all times are the database's, so the test process's clock never enters the figures.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import { queryRows } from "../../src/db/raw.js";

export interface Orphan {
  chatId: string;
  replicaId: string;
  killedAtMs: number;
  /** The lease's last renewal before the kill: it expires staleAfter after this. */
  heartbeatAtMs: number;
  /** Set once stale recovery handed the chat back (first poll that saw it leave the dead lease). */
  recoveredAfterMs?: number;
  /** Set once another replica acquired the chat (or it finished between two polls). */
  reacquiredAfterMs?: number;
}

interface LeaseRow {
  id: string;
  status: string;
  workerId: string | null;
  startedAtMs: number | null;
  heartbeatAgeMs: number | null;
  nowMs: number;
}

const FINISHED = new Set(["waiting", "error"]);

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

export async function databaseNowMs(db: Database): Promise<number> {
  const [row] = await queryRows(db, sql`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now_ms`);
  const now = numberOrNull(row?.now_ms);
  if (now === null) throw new Error("the database did not say what time it is");
  return now;
}

export class ChaosMonitor {
  readonly orphans: Orphan[] = [];
  #rows = new Map<string, LeaseRow>();
  #maxHeartbeatAgeMs = 0;
  #maxLiveHeartbeatAgeMs = 0;
  readonly #dead = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly db: Database,
    private readonly intervalMs: number,
  ) {}

  get maxHeartbeatAgeMs(): number {
    return this.#maxHeartbeatAgeMs;
  }

  /** The oldest heartbeat seen on a chat whose replica was alive: a lease a live replica failed to renew. */
  get maxLiveHeartbeatAgeMs(): number {
    return this.#maxLiveHeartbeatAgeMs;
  }

  /** The longest stale recovery took to hand an orphan back, so far. */
  get maxRecoveryMs(): number {
    return Math.max(0, ...this.orphans.map((orphan) => orphan.recoveredAfterMs ?? 0));
  }

  /** The longest any orphan waited for another replica, so far. */
  get maxOrphanedMs(): number {
    return Math.max(0, ...this.orphans.map((orphan) => orphan.reacquiredAfterMs ?? 0));
  }

  get reacquisitions(): number {
    return this.orphans.filter((orphan) => orphan.reacquiredAfterMs !== undefined).length;
  }

  status(chatId: string): string | undefined {
    return this.#rows.get(chatId)?.status;
  }

  finishedCount(chatIds: readonly string[]): number {
    return chatIds.filter((id) => FINISHED.has(this.#rows.get(id)?.status ?? "")).length;
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#polling = this.poll()
        .catch(() => undefined)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  async poll(): Promise<void> {
    const rows = await queryRows(
      this.db,
      sql`SELECT id, status, worker_id,
            (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
            (extract(epoch FROM (now() - heartbeat_at)) * 1000)::float8 AS heartbeat_age_ms,
            (extract(epoch FROM now()) * 1000)::float8 AS now_ms
          FROM chats`,
    );
    for (const raw of rows) {
      const row: LeaseRow = {
        id: String(raw.id),
        status: String(raw.status),
        workerId: typeof raw.worker_id === "string" ? raw.worker_id : null,
        startedAtMs: numberOrNull(raw.started_ms),
        heartbeatAgeMs: numberOrNull(raw.heartbeat_age_ms),
        nowMs: numberOrNull(raw.now_ms) ?? 0,
      };
      this.#rows.set(row.id, row);
      if (row.status === "running" && row.heartbeatAgeMs !== null) {
        this.#maxHeartbeatAgeMs = Math.max(this.#maxHeartbeatAgeMs, row.heartbeatAgeMs);
        if (row.workerId !== null && !this.#dead.has(row.workerId)) {
          this.#maxLiveHeartbeatAgeMs = Math.max(this.#maxLiveHeartbeatAgeMs, row.heartbeatAgeMs);
        }
      }
    }
    for (const orphan of this.orphans) {
      if (orphan.reacquiredAfterMs !== undefined) continue;
      const row = this.#rows.get(orphan.chatId);
      if (!row) continue;
      if (orphan.recoveredAfterMs === undefined && !(row.status === "running" && row.workerId === orphan.replicaId)) {
        orphan.recoveredAfterMs = row.nowMs - orphan.killedAtMs;
      }
      if (row.status === "running" && row.workerId !== orphan.replicaId && row.startedAtMs !== null) {
        orphan.reacquiredAfterMs = row.startedAtMs - orphan.killedAtMs;
      } else if (FINISHED.has(row.status)) {
        // Acquired and finished between two polls: the poll is an upper bound.
        orphan.reacquiredAfterMs = row.nowMs - orphan.killedAtMs;
      }
    }
  }

  /** Records the chats a dead replica held; call after its process is gone (it writes nothing more). */
  async recordKill(replicaId: string, killedAtMs: number): Promise<number> {
    this.#dead.add(replicaId);
    const rows = await queryRows(
      this.db,
      sql`SELECT id, (extract(epoch FROM heartbeat_at) * 1000)::float8 AS heartbeat_ms FROM chats WHERE status = 'running' AND worker_id = ${replicaId}`,
    );
    for (const row of rows) {
      this.orphans.push({ chatId: String(row.id), replicaId, killedAtMs, heartbeatAtMs: numberOrNull(row.heartbeat_ms) ?? killedAtMs });
    }
    return rows.length;
  }
}
