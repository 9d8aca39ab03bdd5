/**
 * Autostop: a started workspace with a TTL that nobody has used for that long is stopped, so idle
 * workspaces do not hold machines (behavior.md: the site's `agents_workspace_ttl`, copied to each
 * new workspace; a running chat's heartbeat marks its workspace used and so pushes the deadline).
 *
 * Invariants:
 * - "Used" is the later of `last_used_at` and the completion of the start build, so a workspace
 *   started a moment ago is never stopped for having been idle before it was stopped last time.
 * - A workspace with a pending or running chat attached is never stopped, whatever its clock says.
 * - Any replica may sweep. The stop build goes through requestBuild, which row-locks the workspace
 *   and refuses a second build; a replica that loses that race just skips the workspace.
 */
import { and, eq, exists, inArray, isNotNull, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chats, workspaceBuilds, workspaces } from "../db/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { requestBuild } from "./builds.js";
import { WorkspaceConflictError, WorkspaceNotFoundError } from "./errors.js";
import type { WorkspaceRuntime } from "./runtime.js";

/** TTLs are at least a minute (the settings route enforces it), so a minutely sweep is on time. */
export const AUTOSTOP_SWEEP_INTERVAL_MS = 60_000;
/** One sweep stops at most this many; the rest wait a minute rather than flood the runner. */
const AUTOSTOP_BATCH = 50;

export interface AutostopDeps {
  db: Database;
  pubsub: Pubsub;
  runtime: WorkspaceRuntime;
  log: Logger;
}

/** Workspaces whose TTL ran out at `now`, oldest deadline first. */
export async function idleWorkspaces(db: Database, now: Date): Promise<string[]> {
  const latest = db
    .select({
      workspaceId: workspaceBuilds.workspaceId,
      transition: workspaceBuilds.transition,
      status: workspaceBuilds.status,
      completedAt: workspaceBuilds.completedAt,
    })
    .from(workspaceBuilds)
    .where(
      eq(
        workspaceBuilds.buildNumber,
        sql`(SELECT max(b.build_number) FROM workspace_builds b WHERE b.workspace_id = ${workspaceBuilds.workspaceId})`,
      ),
    )
    .as("latest");
  // greatest() skips NULLs: never used since the start means used at the start.
  const usedAt = sql`greatest(${workspaces.lastUsedAt}, ${latest.completedAt})`;
  const rows = await db
    .select({ id: workspaces.id })
    .from(workspaces)
    .innerJoin(latest, eq(latest.workspaceId, workspaces.id))
    .where(
      and(
        eq(workspaces.deleted, false),
        isNotNull(workspaces.ttlMs),
        sql`${workspaces.ttlMs} > 0`,
        eq(latest.transition, "start"),
        eq(latest.status, "succeeded"),
        sql`${usedAt} + ${workspaces.ttlMs} * interval '1 millisecond' <= ${now.toISOString()}::timestamptz`,
        sql`NOT ${exists(
          db
            .select({ one: sql`1` })
            .from(chats)
            .where(and(eq(chats.workspaceId, workspaces.id), inArray(chats.status, ["pending", "running"]))),
        )}`,
      ),
    )
    .orderBy(sql`${usedAt} + ${workspaces.ttlMs} * interval '1 millisecond'`)
    .limit(AUTOSTOP_BATCH);
  return rows.map((row) => row.id);
}

export class WorkspaceAutostop {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(private readonly deps: AutostopDeps) {}

  start(): void {
    this.#timer = setInterval(() => void this.sweep().catch((error: unknown) => this.deps.log.warn({ err: error }, "workspace autostop sweep failed")), AUTOSTOP_SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping?.catch(() => undefined);
  }

  /** Requests a stop build for every idle workspace; returns how many it stopped. */
  sweep(now = new Date()): Promise<number> {
    this.#sweeping ??= this.#sweep(now).finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(now: Date): Promise<number> {
    const { db, pubsub, runtime, log } = this.deps;
    let stopped = 0;
    for (const workspaceId of await idleWorkspaces(db, now)) {
      try {
        const build = await requestBuild(db, pubsub, workspaceId, { transition: "stop", initiatorId: null, runnerId: runtime.replicaId });
        runtime.execute(build);
        stopped++;
        log.info({ workspace_id: workspaceId, build_id: build.id }, "stopping an idle workspace (autostop)");
      } catch (error) {
        // Another replica (or a user) got there first.
        if (error instanceof WorkspaceConflictError || error instanceof WorkspaceNotFoundError) continue;
        throw error;
      }
    }
    return stopped;
  }
}
