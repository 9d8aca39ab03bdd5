/**
 * Workspace builds as durable state: requesting one, its status changes, the workspace status it
 * implies, waiting for one to finish, and failing the builds of replicas that died.
 *
 * Invariants:
 * - A build is requested in one transaction that first row-locks the workspace, so two requests
 *   cannot both pass the "no build in progress" check; build numbers are the latest plus one.
 * - A build moves pending → running → succeeded | failed, each step only by the replica named in
 *   `runner_id` and only from a non-final status: a build that recovery already failed stays failed.
 * - Every status change publishes a WorkspaceEvent on `workspace:<id>` inside its transaction
 *   (delivered after COMMIT), so waiters wake; they re-read the row, the event is only a hint.
 * - A succeeded delete build marks the workspace deleted in the same transaction.
 */
import { and, desc, eq, gt, inArray, isNull, notInArray, or } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable, Transaction } from "../db/client.js";
import { replicas, workspaceBuilds, workspaces } from "../db/schema/index.js";
import { transaction } from "../db/transaction.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { channelWaiter } from "../pubsub/waiter.js";
import { BuildNotFoundError, BuildWaitTimeoutError, WorkspaceConflictError, WorkspaceNotFoundError } from "./errors.js";
import { BUILD_STATUSES, BUILD_TRANSITIONS, type BuildStatus, type BuildTransition, type WorkspaceStatus } from "../sdk/schemas/workspaces.js";

export type BuildRow = typeof workspaceBuilds.$inferSelect;
export type WorkspaceRow = typeof workspaces.$inferSelect;

/** Waiters re-read the build this often even without a notification (a lost NOTIFY, a dead listener). */
export const BUILD_WAIT_RECHECK_MS = 2_000;

export const ORPHANED_BUILD_ERROR = "the replica running this build stopped";

export function workspaceChannel(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}

/**
 * The payloads published on `workspace:<id>`: a build changed status, or the workspace's agent
 * connected or disconnected (agent-conn/connections.ts). Hints: receivers re-read the database.
 */
export const workspaceEventSchema = z.union([
  z.object({
    type: z.literal("build"),
    build_id: z.uuid(),
    transition: z.enum(BUILD_TRANSITIONS),
    status: z.enum(BUILD_STATUSES),
  }),
  z.object({ type: z.literal("agent"), agent_id: z.uuid(), connected: z.boolean() }),
]);
export type WorkspaceEvent = z.infer<typeof workspaceEventSchema>;

export async function publishBuildEvent(pubsub: Pubsub, build: BuildRow, tx?: Transaction): Promise<void> {
  const event: WorkspaceEvent = { type: "build", build_id: build.id, transition: build.transition, status: build.status };
  await pubsub.publish(workspaceChannel(build.workspaceId), JSON.stringify(event), tx);
}

export function isFinalStatus(status: BuildStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "canceled";
}

export function isActiveStatus(status: BuildStatus): boolean {
  return status === "pending" || status === "running";
}

/** The workspace's state, read off its latest build. */
export function workspaceStatus(latest: Pick<BuildRow, "transition" | "status"> | undefined): WorkspaceStatus {
  if (!latest) return "pending";
  if (latest.status === "failed" || latest.status === "canceled") return "failed";
  switch (latest.transition) {
    case "start":
      return latest.status === "pending" ? "pending" : latest.status === "running" ? "starting" : "running";
    case "stop":
      return latest.status === "succeeded" ? "stopped" : "stopping";
    case "delete":
      return latest.status === "succeeded" ? "deleted" : "deleting";
  }
}

export async function latestBuildRow(q: Queryable, workspaceId: string): Promise<BuildRow | undefined> {
  const [row] = await q
    .select()
    .from(workspaceBuilds)
    .where(eq(workspaceBuilds.workspaceId, workspaceId))
    .orderBy(desc(workspaceBuilds.buildNumber))
    .limit(1);
  return row;
}

export async function readBuild(q: Queryable, buildId: string): Promise<BuildRow | undefined> {
  const [row] = await q.select().from(workspaceBuilds).where(eq(workspaceBuilds.id, buildId)).limit(1);
  return row;
}

/** Why `transition` cannot follow `latest` now, or undefined when it can. */
export function transitionProblem(latest: BuildRow | undefined, transition: BuildTransition): string | undefined {
  if (!latest) return undefined;
  if (isActiveStatus(latest.status)) {
    return `A ${latest.transition} build (#${latest.buildNumber}) is in progress; wait for it to finish.`;
  }
  const succeeded = latest.status === "succeeded";
  if (latest.transition === "delete" && succeeded) return "The workspace is deleted.";
  if (transition === "start" && latest.transition === "start" && succeeded) return "The workspace is already started.";
  if (transition === "stop" && latest.transition === "stop" && succeeded) return "The workspace is already stopped.";
  return undefined;
}

export interface BuildRequest {
  transition: BuildTransition;
  initiatorId: string | null;
  /** The replica that will execute the build (this one). */
  runnerId: string;
}

/** Inserts the next build of a workspace the caller has locked in `tx`. */
export async function insertBuild(tx: Transaction, pubsub: Pubsub, workspaceId: string, request: BuildRequest): Promise<BuildRow> {
  const latest = await latestBuildRow(tx, workspaceId);
  const problem = transitionProblem(latest, request.transition);
  if (problem !== undefined) throw new WorkspaceConflictError(problem);
  const [build] = await tx
    .insert(workspaceBuilds)
    .values({
      workspaceId,
      buildNumber: (latest?.buildNumber ?? 0) + 1,
      transition: request.transition,
      initiatorId: request.initiatorId,
      runnerId: request.runnerId,
    })
    .returning();
  if (!build) throw new Error("inserting the workspace build returned no row");
  await publishBuildEvent(pubsub, build, tx);
  return build;
}

/** Locks the workspace row for the rest of `tx`; deleted workspaces take no more builds. */
export async function lockWorkspace(tx: Transaction, workspaceId: string): Promise<WorkspaceRow> {
  const [row] = await tx.select().from(workspaces).where(eq(workspaces.id, workspaceId)).for("update");
  if (!row) throw new WorkspaceNotFoundError();
  if (row.deleted) throw new WorkspaceConflictError("The workspace is deleted.");
  return row;
}

export async function requestBuild(db: Database, pubsub: Pubsub, workspaceId: string, request: BuildRequest): Promise<BuildRow> {
  return transaction(db, async (tx) => {
    await lockWorkspace(tx, workspaceId);
    return insertBuild(tx, pubsub, workspaceId, request);
  });
}

/** pending → running, by its runner. Undefined when the build is no longer this runner's to run. */
export async function markBuildRunning(db: Database, pubsub: Pubsub, build: BuildRow): Promise<BuildRow | undefined> {
  return transaction(db, async (tx) => {
    const [row] = await tx
      .update(workspaceBuilds)
      .set({ status: "running", startedAt: new Date() })
      .where(and(eq(workspaceBuilds.id, build.id), eq(workspaceBuilds.status, "pending"), runnerIs(build.runnerId)))
      .returning();
    if (row) await publishBuildEvent(pubsub, row, tx);
    return row;
  });
}

function runnerIs(runnerId: string | null) {
  return runnerId === null ? isNull(workspaceBuilds.runnerId) : eq(workspaceBuilds.runnerId, runnerId);
}

export type BuildOutcome = { status: "succeeded" } | { status: "failed"; error: string };

/** The final status, by its runner; a succeeded delete also marks the workspace deleted. */
export async function finishBuild(db: Database, pubsub: Pubsub, build: BuildRow, outcome: BuildOutcome): Promise<BuildRow | undefined> {
  return transaction(db, async (tx) => {
    const [row] = await tx
      .update(workspaceBuilds)
      .set({ status: outcome.status, error: outcome.status === "failed" ? outcome.error : null, completedAt: new Date() })
      .where(and(eq(workspaceBuilds.id, build.id), inArray(workspaceBuilds.status, ["pending", "running"]), runnerIs(build.runnerId)))
      .returning();
    if (!row) return undefined;
    if (row.transition === "delete" && row.status === "succeeded") {
      await tx.update(workspaces).set({ deleted: true, updatedAt: new Date() }).where(eq(workspaces.id, row.workspaceId));
    }
    await publishBuildEvent(pubsub, row, tx);
    return row;
  });
}

/**
 * Fails the pending/running builds whose runner is gone: no `replicas` row, or a heartbeat older
 * than `staleAfterMs`. Returns what it failed.
 */
export async function failOrphanedBuilds(db: Database, pubsub: Pubsub, staleAfterMs: number): Promise<BuildRow[]> {
  return transaction(db, async (tx) => {
    const live = tx
      .select({ id: replicas.id })
      .from(replicas)
      .where(gt(replicas.heartbeatAt, new Date(Date.now() - staleAfterMs)));
    const failed = await tx
      .update(workspaceBuilds)
      .set({ status: "failed", error: ORPHANED_BUILD_ERROR, completedAt: new Date() })
      .where(
        and(
          inArray(workspaceBuilds.status, ["pending", "running"]),
          or(isNull(workspaceBuilds.runnerId), notInArray(workspaceBuilds.runnerId, live)),
        ),
      )
      .returning();
    for (const row of failed) await publishBuildEvent(pubsub, row, tx);
    return failed;
  });
}

export interface WaitForBuildOptions {
  signal?: AbortSignal;
  /** Give up (BuildWaitTimeoutError) after this long; no deadline when absent. */
  timeoutMs?: number;
}

/**
 * Resolves with the build's row once it is final (succeeded, failed or canceled). Subscribes
 * before reading, so a change between the read and the subscription cannot be missed, and
 * re-reads every BUILD_WAIT_RECHECK_MS in case a notification is lost.
 * Throws BuildNotFoundError, BuildWaitTimeoutError, or the signal's reason when aborted.
 */
export async function waitForBuild(db: Database, pubsub: Pubsub, buildId: string, options: WaitForBuildOptions = {}): Promise<BuildRow> {
  const first = await readBuild(db, buildId);
  if (!first) throw new BuildNotFoundError();
  if (isFinalStatus(first.status)) return first;
  options.signal?.throwIfAborted();

  const waiter = await channelWaiter(pubsub, workspaceChannel(first.workspaceId));
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  try {
    for (;;) {
      const row = await readBuild(db, buildId);
      if (!row) throw new BuildNotFoundError();
      if (isFinalStatus(row.status)) return row;
      options.signal?.throwIfAborted();
      const remaining = deadline === undefined ? BUILD_WAIT_RECHECK_MS : deadline - Date.now();
      if (remaining <= 0) throw new BuildWaitTimeoutError(buildId, options.timeoutMs ?? 0);
      await waiter.wait(Math.min(remaining, BUILD_WAIT_RECHECK_MS), options.signal);
    }
  } finally {
    await waiter.close();
  }
}
