/**
 * The provisioning tools' port (provisioner-port.ts) over the workspace service. Everything runs
 * as the chat's owner (their own RBAC subject, looked up per call so a role change applies at
 * once), never as chatd: a chat cannot do in a workspace what its owner could not.
 * Service errors become WorkspaceToolErrors whose text tells the model what to fix.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../../../db/client.js";
import { users, workspaces } from "../../../db/schema/index.js";
import type { Pubsub } from "../../../pubsub/pubsub.js";
import { userSubject, type Subject } from "../../../rbac/policy.js";
import { latestBuildRow, waitForBuild, type BuildRow } from "../../../workspaces/builds.js";
import { BuildWaitTimeoutError, WorkspaceServiceError } from "../../../workspaces/errors.js";
import type { WorkspaceService } from "../../../workspaces/service.js";
import { isUuid } from "../../../util/parse.js";
import { WorkspaceToolError } from "./agent.js";
import type { BuildState, TemplateSummary, WorkspaceProvisioning } from "./provisioner-port.js";

/** list_templates pages by 10 (reference). */
const TEMPLATES_PER_PAGE = 10;
/** Enough of a failed build's log for the model to see why, without flooding its context. */
const LOG_TAIL_BYTES = 4 * 1024;

function logTail(log: string): string | undefined {
  const trimmed = log.trimEnd();
  if (trimmed === "") return undefined;
  return trimmed.length <= LOG_TAIL_BYTES ? trimmed : `…${trimmed.slice(-LOG_TAIL_BYTES)}`;
}

/** The tools' view of a build as the API reports it (fresh builds: no log yet). */
function reported(build: Pick<BuildState, "id" | "transition" | "status" | "error">): BuildState {
  return { id: build.id, transition: build.transition, status: build.status, error: build.error };
}

function buildState(row: BuildRow): BuildState {
  const tail = row.status === "failed" ? logTail(row.log) : undefined;
  return { id: row.id, transition: row.transition, status: row.status, error: row.error, ...(tail ? { logTail: tail } : {}) };
}

function forModel(error: unknown): never {
  if (error instanceof WorkspaceServiceError) {
    const problems = (error.validations ?? []).map((problem) => `${problem.field}: ${problem.detail}`);
    throw new WorkspaceToolError([error.message, error.detail, ...problems].filter(Boolean).join("\n"));
  }
  if (error instanceof BuildWaitTimeoutError) throw new WorkspaceToolError(error.message);
  throw error;
}

async function guarded<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    return forModel(error);
  }
}

export function serviceProvisioning(db: Database, pubsub: Pubsub, service: WorkspaceService): WorkspaceProvisioning {
  const ownerSubject = async (ownerId: string): Promise<Subject> => {
    const [owner] = await db.select({ id: users.id, roles: users.roles, status: users.status }).from(users).where(eq(users.id, ownerId));
    if (!owner || owner.status !== "active") throw new WorkspaceToolError("the chat's owner cannot create or start workspaces (account missing or suspended)");
    return userSubject(owner.id, owner.roles);
  };
  const summary = (template: { id: string; name: string; display_name: string; description: string; active_developers: number }): TemplateSummary => ({
    id: template.id,
    name: template.name,
    displayName: template.display_name,
    description: template.description,
    activeDevelopers: template.active_developers,
  });

  return {
    listTemplates: (ownerId, input) =>
      guarded(async () => {
        const pageSize = TEMPLATES_PER_PAGE;
        const listed = await service.listTemplates(await ownerSubject(ownerId), {
          ...(input.query ? { query: input.query } : {}),
          page: input.page,
          pageSize,
        });
        return {
          templates: listed.templates.map(summary),
          page: input.page,
          totalPages: Math.max(1, Math.ceil(listed.total / pageSize)),
          totalCount: listed.total,
        };
      }),
    readTemplate: (ownerId, templateId) =>
      guarded(async () => {
        if (!isUuid(templateId)) return undefined;
        try {
          const template = await service.getTemplate(await ownerSubject(ownerId), templateId);
          return { ...summary(template), parameters: template.parameters };
        } catch (error) {
          if (error instanceof WorkspaceServiceError && error.status === 404) return undefined;
          throw error;
        }
      }),
    createWorkspace: (ownerId, input) =>
      guarded(async () => {
        const subject = await ownerSubject(ownerId);
        const created = await service.createWorkspace(subject, {
          templateId: input.templateId,
          ...(input.name ? { name: input.name } : {}),
          parameters: input.parameters,
        });
        return { workspaceId: created.workspace.id, name: created.workspace.name, build: reported(created.build) };
      }),
    startWorkspace: (workspaceId, initiatorId) =>
      guarded(async () => {
        return reported(await service.startWorkspace(workspaceId, await ownerSubject(initiatorId)));
      }),
    workspaceState: (workspaceId) =>
      guarded(async () => {
        const [row] = await db
          .select({ id: workspaces.id, name: workspaces.name, deleted: workspaces.deleted })
          .from(workspaces)
          .where(eq(workspaces.id, workspaceId));
        if (!row) return undefined;
        const latest = await latestBuildRow(db, workspaceId);
        return { ...row, latestBuild: latest ? buildState(latest) : undefined };
      }),
    waitForBuild: (buildId, options) => guarded(async () => buildState(await waitForBuild(db, pubsub, buildId, options))),
  };
}
