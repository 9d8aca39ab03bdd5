/**
 * The API views of workspaces, builds and agents (their schemas are wire types, in
 * sdk/schemas/workspaces.ts), and the queries that assemble them. A page of
 * workspaces costs three queries (workspaces with owner and template, their latest builds, those
 * builds' agents) whatever its size.
 *
 * Invariants:
 * - No token, token id or token hash ever appears in a response; the schemas below list every
 *   field that may leave, and the routes parse responses through them.
 * - A workspace's agent is the agent of its latest build (never a stored agent id), so a
 *   restarted workspace shows its new agent.
 */
import { desc, eq, inArray, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { templates, users, workspaceAgents, workspaceBuilds, workspaces } from "../db/schema/index.js";
import { workspaceStatus, type BuildRow, type WorkspaceRow } from "./builds.js";
import type { AgentRow } from "./agents.js";
import {
  parameterValuesSchema,
  type AgentResponse,
  type BuildResponse,
  type BuildSummary,
  type BuildWithLogResponse,
  type WorkspaceResponse,
} from "../sdk/schemas/workspaces.js";

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

function toBuildSummary(build: BuildRow): BuildSummary {
  return {
    id: build.id,
    build_number: build.buildNumber,
    transition: build.transition,
    status: build.status,
    error: build.error,
    created_at: build.createdAt.toISOString(),
    started_at: iso(build.startedAt),
    completed_at: iso(build.completedAt),
  };
}

export function toBuildResponse(build: BuildRow): BuildResponse {
  return { ...toBuildSummary(build), workspace_id: build.workspaceId, initiator_id: build.initiatorId };
}

export function toBuildWithLogResponse(build: BuildRow): BuildWithLogResponse {
  return { ...toBuildResponse(build), log: build.log };
}

/** connected = a replica holds its socket; connecting = it never connected yet. */
export function agentStatus(agent: Pick<AgentRow, "replicaId" | "firstConnectedAt">): AgentResponse["status"] {
  if (agent.replicaId !== null) return "connected";
  return agent.firstConnectedAt === null ? "connecting" : "disconnected";
}

export function toAgentResponse(agent: AgentRow): AgentResponse {
  return {
    id: agent.id,
    status: agentStatus(agent),
    version: agent.version,
    operating_system: agent.operatingSystem,
    directory: agent.directory,
    last_heartbeat_at: iso(agent.lastHeartbeatAt),
  };
}

interface JoinedWorkspace {
  workspace: WorkspaceRow;
  ownerName: string;
  templateName: string;
  templateDisplayName: string;
}

/** Workspaces matching `where` (already authorized by the caller), as API objects, newest first. */
export async function loadWorkspaceViews(
  q: Queryable,
  where: SQL | undefined,
  page: { limit: number; offset: number },
): Promise<WorkspaceResponse[]> {
  const rows: JoinedWorkspace[] = await q
    .select({ workspace: workspaces, ownerName: users.username, templateName: templates.name, templateDisplayName: templates.displayName })
    .from(workspaces)
    .innerJoin(users, eq(users.id, workspaces.ownerId))
    .innerJoin(templates, eq(templates.id, workspaces.templateId))
    .where(where)
    .orderBy(desc(workspaces.createdAt), desc(workspaces.id))
    .limit(page.limit)
    .offset(page.offset);
  return toWorkspaceResponses(q, rows);
}

export async function loadWorkspaceView(q: Queryable, workspaceId: string): Promise<WorkspaceResponse | undefined> {
  const [view] = await loadWorkspaceViews(q, eq(workspaces.id, workspaceId), { limit: 1, offset: 0 });
  return view;
}

async function toWorkspaceResponses(q: Queryable, rows: JoinedWorkspace[]): Promise<WorkspaceResponse[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.workspace.id);
  const builds = await q
    .selectDistinctOn([workspaceBuilds.workspaceId])
    .from(workspaceBuilds)
    .where(inArray(workspaceBuilds.workspaceId, ids))
    .orderBy(workspaceBuilds.workspaceId, desc(workspaceBuilds.buildNumber));
  const latestByWorkspace = new Map(builds.map((build) => [build.workspaceId, build]));
  const buildIds = builds.map((build) => build.id);
  const agents =
    buildIds.length === 0
      ? []
      : await q
          .selectDistinctOn([workspaceAgents.buildId])
          .from(workspaceAgents)
          .where(inArray(workspaceAgents.buildId, buildIds))
          .orderBy(workspaceAgents.buildId, desc(workspaceAgents.createdAt));
  const agentByBuild = new Map(agents.map((agent) => [agent.buildId, agent]));
  return rows.map(({ workspace, ownerName, templateName, templateDisplayName }) => {
    const latest = latestByWorkspace.get(workspace.id);
    const agent = latest ? agentByBuild.get(latest.id) : undefined;
    const parameters = parameterValuesSchema.safeParse(workspace.parameters);
    return {
      id: workspace.id,
      name: workspace.name,
      owner_id: workspace.ownerId,
      owner_name: ownerName,
      template_id: workspace.templateId,
      template_name: templateName,
      template_display_name: templateDisplayName,
      parameters: parameters.success ? parameters.data : {},
      latest_build: latest ? toBuildSummary(latest) : null,
      agent: agent ? toAgentResponse(agent) : null,
      status: workspace.deleted ? "deleted" : workspaceStatus(latest),
      last_used_at: iso(workspace.lastUsedAt),
      ttl_ms: workspace.ttlMs,
      created_at: workspace.createdAt.toISOString(),
      updated_at: workspace.updatedAt.toISOString(),
    };
  });
}
