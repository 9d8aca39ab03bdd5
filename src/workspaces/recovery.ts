/**
 * Bringing local agents back after their server went away. A local agent dies with the server
 * that spawned it (stopped on close, or by bubblewrap's --die-with-parent), while its workspace
 * stays "running" (latest build: a succeeded start). A server starting on the same machine gives
 * such a workspace a new agent process with a fresh token for the same agent row.
 *
 * Invariants:
 * - Only workspaces whose directory is on this machine are touched, and only when their agent
 *   is gone: its recorded process no longer runs here, or (no process recorded) the start
 *   build's runner has no live `replicas` row and the agent is connected to no live replica. The
 *   process check matters after a SIGKILL: the dead server's row still looks live for up to
 *   REPLICA_STALE_AFTER_MS, and a replica restarted sooner would otherwise leave the agent dead.
 * - A workspace is claimed by moving its start build's `runner_id` to this replica with a
 *   compare-and-set, so two replicas starting at once never both respawn it.
 * - The old token stops working before the new process starts (reissueAgentToken).
 */
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { replicas, templates, users, workspaceAgents, workspaceBuilds, workspaces } from "../db/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { latestAgent, reissueAgentToken } from "./agents.js";
import type { LocalProvisioner } from "./provisioners/local.js";

export interface RespawnDeps {
  db: Database;
  replicaId: string;
  staleAfterMs: number;
  local: LocalProvisioner;
  serverUrl: string;
  log: Logger;
}

/** Returns how many agents were respawned. */
export async function respawnLocalAgents(deps: RespawnDeps): Promise<number> {
  const { db, log } = deps;
  const live = await db
    .select({ id: replicas.id })
    .from(replicas)
    .where(gt(replicas.heartbeatAt, new Date(Date.now() - deps.staleAfterMs)));
  const liveIds = new Set(live.map((row) => row.id));
  // The latest build of every live local workspace; only succeeded starts are of interest.
  const latest = await db
    .selectDistinctOn([workspaceBuilds.workspaceId], { build: workspaceBuilds, workspace: workspaces, owner: users })
    .from(workspaceBuilds)
    .innerJoin(workspaces, eq(workspaces.id, workspaceBuilds.workspaceId))
    .innerJoin(templates, eq(templates.id, workspaces.templateId))
    .innerJoin(users, eq(users.id, workspaces.ownerId))
    .where(and(eq(workspaces.deleted, false), eq(templates.provisioner, "local")))
    .orderBy(workspaceBuilds.workspaceId, desc(workspaceBuilds.buildNumber));
  let respawned = 0;
  for (const { build, workspace, owner } of latest) {
    if (build.transition !== "start" || build.status !== "succeeded") continue;
    if (!deps.local.holds(workspace.id)) continue;
    const agent = await latestAgent(db, workspace.id);
    if (!agent) continue;
    const processGone = agent.pid !== null && !deps.local.agentRunning(workspace.id, agent.pid);
    if (!processGone) {
      if (build.runnerId !== null && liveIds.has(build.runnerId)) continue;
      if (agent.replicaId !== null && liveIds.has(agent.replicaId)) continue;
    }
    const [claimed] = await db
      .update(workspaceBuilds)
      .set({ runnerId: deps.replicaId })
      .where(and(eq(workspaceBuilds.id, build.id), build.runnerId === null ? isNull(workspaceBuilds.runnerId) : eq(workspaceBuilds.runnerId, build.runnerId)))
      .returning({ id: workspaceBuilds.id });
    if (!claimed) continue;
    try {
      if (agent.pid !== null) await deps.local.stopIfStillRunning(workspace.id, agent.pid);
      const token = await reissueAgentToken(db, agent.id);
      const pid = await deps.local.spawnAgent({
        workspaceId: workspace.id,
        agentId: agent.id,
        owner: { id: owner.id, username: owner.username, name: owner.name, email: owner.email },
        token,
        serverUrl: deps.serverUrl,
      });
      await db.update(workspaceAgents).set({ pid }).where(eq(workspaceAgents.id, agent.id));
      respawned++;
      log.info({ workspace_id: workspace.id, agent_id: agent.id, pid }, "respawned a local workspace agent");
    } catch (error) {
      log.warn({ err: error, workspace_id: workspace.id }, "respawning a local workspace agent failed");
    }
  }
  return respawned;
}
