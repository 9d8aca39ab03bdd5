/**
 * The workspace service: everything the HTTP routes and the chat tools do with templates,
 * workspaces, builds and shares, always as a subject (rbac). Mutations that start a build hand it
 * to this replica's runtime, which runs it in the background; callers wait with `waitForBuild`.
 *
 * Errors (errors.ts; `status` is the HTTP status routes answer with):
 * - WorkspaceInputError (400): malformed id or name, unknown or deprecated template, parameter
 *   values that fail validation (one `validations` entry per parameter). Nothing was changed.
 * - WorkspaceNotFoundError / TemplateNotFoundError / BuildNotFoundError (404): missing, or not
 *   readable by the subject.
 * - WorkspaceForbiddenError (403): readable, but the action is not allowed (start someone else's
 *   workspace you only have a share of; create a template as a member).
 * - WorkspaceConflictError (409): a build is in progress, the transition makes no sense (start a
 *   started workspace), the name is taken, the workspace is deleted, the template is in use.
 */
import { randomBytes } from "node:crypto";
import { and, desc, eq, ilike, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/client.js";
import { uniqueViolation } from "../db/errors.js";
import { users, workspaceBuilds, workspaces } from "../db/schema/index.js";
import { readWorkspaceTtl } from "./ttl.js";
import { transaction } from "../db/transaction.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { can, type PolicyObject, type Subject } from "../rbac/policy.js";
import { authorizedFilter } from "../rbac/sql.js";
import { isUuid } from "../util/parse.js";
import { checkWorkspaceId, loadWorkspaceFor, workspacePolicyObject, workspaceShareFilter } from "./access.js";
import { insertBuild, latestBuildRow, lockWorkspace, readBuild, requestBuild, waitForBuild, type BuildRequest, type BuildRow, type WaitForBuildOptions } from "./builds.js";
import { BuildNotFoundError, TemplateNotFoundError, WorkspaceConflictError, WorkspaceForbiddenError, WorkspaceInputError, WorkspaceNotFoundError } from "./errors.js";
import { changeParameters, resolveParameters } from "./parameters.js";
import type { WorkspaceRuntime } from "./runtime.js";
import { deleteShare, listShares, putShare } from "./shares.js";
import * as templateOps from "./template-service.js";
import { findTemplate, templateParameters, type CreateTemplateInput, type UpdateTemplateInput } from "./templates.js";
import { loadWorkspaceView, loadWorkspaceViews, toBuildResponse, toBuildWithLogResponse } from "./views.js";
import { parameterValuesSchema } from "../sdk/schemas/workspaces.js";
import type { BuildResponse, BuildTransition, BuildWithLogResponse, ParameterValue, ShareResponse, ShareRole, TemplateResponse, WorkspaceResponse } from "../sdk/schemas/workspaces.js";

/** Lowercase letters, digits and inner hyphens, at most 32 (usable in host names and paths). */
export const workspaceNameSchema = z
  .string()
  .min(1, "Name is required.")
  .max(32, "Name must be at most 32 characters.")
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "Name may contain lowercase letters, digits and single hyphens between them.");
/** `<base>-<4 hex>` stays within the 32 characters of a name. */
const GENERATED_NAME_BASE_LENGTH = 27;
/** 65,536 suffixes; a few collisions in a row mean something other than bad luck. */
const GENERATED_NAME_ATTEMPTS = 5;
/** The site setting a new workspace's TTL comes from (a duration like "8h", or milliseconds). */

export interface CreateWorkspaceInput {
  templateId: string;
  name?: string;
  parameters?: Record<string, ParameterValue>;
  /** Create for another user (needs `create` on their workspaces: admins). Default: the subject. */
  ownerId?: string;
}

export interface ListWorkspacesOptions {
  /** `me`, a username or a user id. */
  owner?: string;
  /** Substring of the name. */
  query?: string;
  /** Only workspaces the subject may run an agent in (`ssh`: own and `use`-shared; all for admins). */
  usable?: boolean;
  limit: number;
  offset: number;
}

function generatedName(templateName: string): string {
  const base =
    templateName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/-+/g, "-")
      .slice(0, GENERATED_NAME_BASE_LENGTH)
      .replace(/^-+|-+$/g, "") || "workspace";
  return `${base}-${randomBytes(2).toString("hex")}`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function initiatorOf(subject: Subject): string | null {
  return subject.kind === "user" ? subject.id : null;
}

export class WorkspaceService {
  constructor(
    readonly db: Database,
    readonly pubsub: Pubsub,
    readonly runtime: WorkspaceRuntime,
  ) {}

  /** Creates the workspace and its first (start) build, which then runs on this replica. */
  async createWorkspace(subject: Subject, input: CreateWorkspaceInput): Promise<{ workspace: WorkspaceResponse; build: BuildResponse }> {
    const ownerId = input.ownerId ?? (subject.kind === "user" ? subject.id : undefined);
    if (ownerId === undefined || !isUuid(ownerId)) throw new WorkspaceInputError("A workspace needs an owner.", undefined, [{ field: "owner_id", detail: "Give the id of the user who will own it." }]);
    if (!can(subject, "create", { type: "workspace", ownerId })) throw new WorkspaceForbiddenError();
    if (input.name !== undefined) {
      const parsed = workspaceNameSchema.safeParse(input.name);
      if (!parsed.success) throw new WorkspaceInputError("Validation failed.", undefined, parsed.error.issues.map((issue) => ({ field: "name", detail: issue.message })));
    }
    const template = await this.#templateForNewWorkspace(input.templateId);
    const resolved = resolveParameters(templateParameters(template), input.parameters ?? {});
    if (!resolved.ok) throw new WorkspaceInputError("Invalid workspace parameters.", undefined, resolved.problems);
    const [owner] = await this.db.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).limit(1);
    if (!owner) throw new WorkspaceInputError("The owner does not exist.", undefined, [{ field: "owner_id", detail: "No user with this id." }]);
    const ttlMs = await this.#defaultTtl();

    for (let attempt = 1; ; attempt++) {
      const name = input.name ?? generatedName(template.name);
      try {
        const { workspaceId, build } = await transaction(this.db, async (tx) => {
          const [row] = await tx
            .insert(workspaces)
            .values({ ownerId, templateId: template.id, name, parameters: resolved.values, ttlMs })
            .returning({ id: workspaces.id });
          if (!row) throw new Error("inserting the workspace returned no row");
          const first = await insertBuild(tx, this.pubsub, row.id, { transition: "start", initiatorId: initiatorOf(subject), runnerId: this.runtime.replicaId });
          return { workspaceId: row.id, build: first };
        });
        this.runtime.execute(build);
        const workspace = await loadWorkspaceView(this.db, workspaceId);
        if (!workspace) throw new Error("the workspace just created is missing");
        return { workspace, build: toBuildResponse(build) };
      } catch (error) {
        if (uniqueViolation(error) !== "workspaces_owner_name_idx") throw error;
        if (input.name !== undefined) throw new WorkspaceConflictError(`A workspace named "${name}" already exists for this owner.`);
        if (attempt >= GENERATED_NAME_ATTEMPTS) throw new WorkspaceConflictError("Could not find a free workspace name; give one explicitly.");
      }
    }
  }

  startWorkspace(workspaceId: string, initiator: Subject): Promise<BuildResponse> {
    return this.requestTransition(initiator, workspaceId, "start");
  }

  stopWorkspace(workspaceId: string, initiator: Subject): Promise<BuildResponse> {
    return this.requestTransition(initiator, workspaceId, "stop");
  }

  /** Stops the workspace, removes what its provisioner made, and marks it deleted. */
  deleteWorkspace(workspaceId: string, initiator: Subject): Promise<BuildResponse> {
    return this.requestTransition(initiator, workspaceId, "delete");
  }

  /** A new build; start and stop need `update`, delete needs `delete` on the workspace. */
  async requestTransition(subject: Subject, workspaceId: string, transition: BuildTransition, parameters?: Readonly<Record<string, ParameterValue>>): Promise<BuildResponse> {
    const workspace = await loadWorkspaceFor(this.db, subject, workspaceId, transition === "delete" ? "delete" : "update");
    const request = { transition, initiatorId: initiatorOf(subject), runnerId: this.runtime.replicaId };
    if (parameters !== undefined && transition !== "start") {
      throw new WorkspaceInputError("Parameters can change only with a start build.", undefined, [{ field: "parameters", detail: `A ${transition} build takes no parameters.` }]);
    }
    const build =
      parameters === undefined
        ? await requestBuild(this.db, this.pubsub, workspace.id, request)
        : await this.#startWithParameters(workspace.id, parameters, request);
    this.runtime.execute(build);
    return toBuildResponse(build);
  }

  /** Stores the changed values and inserts the start build in one transaction, under the workspace lock. */
  async #startWithParameters(workspaceId: string, changes: Readonly<Record<string, ParameterValue>>, request: BuildRequest): Promise<BuildRow> {
    return transaction(this.db, async (tx) => {
      const row = await lockWorkspace(tx, workspaceId);
      const template = await findTemplate(tx, row.templateId);
      const [built] = await tx
        .select({ id: workspaceBuilds.id })
        .from(workspaceBuilds)
        .where(and(eq(workspaceBuilds.workspaceId, workspaceId), eq(workspaceBuilds.transition, "start"), eq(workspaceBuilds.status, "succeeded")))
        .limit(1);
      const resolved = changeParameters(templateParameters(template), parameterValuesSchema.parse(row.parameters), changes, built !== undefined);
      if (!resolved.ok) throw new WorkspaceInputError("Invalid workspace parameters.", undefined, resolved.problems);
      await tx.update(workspaces).set({ parameters: resolved.values, updatedAt: new Date() }).where(eq(workspaces.id, workspaceId));
      return insertBuild(tx, this.pubsub, workspaceId, request);
    });
  }

  async getWorkspace(subject: Subject, workspaceId: string): Promise<WorkspaceResponse> {
    const workspace = await loadWorkspaceFor(this.db, subject, workspaceId, "read");
    const view = await loadWorkspaceView(this.db, workspace.id);
    if (!view) throw new WorkspaceNotFoundError();
    return view;
  }

  /** Live (non-deleted) workspaces the subject may read: own, shared with them, all for admins. */
  async listWorkspaces(subject: Subject, options: ListWorkspacesOptions): Promise<WorkspaceResponse[]> {
    const conditions: SQL[] = [
      eq(workspaces.deleted, false),
      authorizedFilter(subject, "read", "workspace", { owner: workspaces.ownerId, id: workspaces.id }, workspaceShareFilter(this.db, subject)),
    ];
    if (options.owner !== undefined) {
      if (options.owner === "me") {
        if (subject.kind !== "user") return [];
        conditions.push(eq(workspaces.ownerId, subject.id));
      } else if (isUuid(options.owner)) {
        conditions.push(eq(workspaces.ownerId, options.owner.toLowerCase()));
      } else {
        conditions.push(sql`lower(${users.username}) = lower(${options.owner})`);
      }
    }
    if (options.usable) {
      conditions.push(authorizedFilter(subject, "ssh", "workspace", { owner: workspaces.ownerId, id: workspaces.id }, workspaceShareFilter(this.db, subject)));
    }
    if (options.query !== undefined && options.query.trim() !== "") conditions.push(ilike(workspaces.name, `%${escapeLike(options.query.trim())}%`));
    return loadWorkspaceViews(this.db, and(...conditions), { limit: options.limit, offset: options.offset });
  }

  async latestBuild(subject: Subject, workspaceId: string): Promise<BuildResponse | undefined> {
    const workspace = await loadWorkspaceFor(this.db, subject, workspaceId, "read");
    const build = await latestBuildRow(this.db, workspace.id);
    return build ? toBuildResponse(build) : undefined;
  }

  /** Newest first, without logs (a log can be a megabyte; read one build for it). */
  async listBuilds(subject: Subject, workspaceId: string, page: { limit: number; offset: number }): Promise<BuildResponse[]> {
    const workspace = await loadWorkspaceFor(this.db, subject, workspaceId, "read");
    const rows = await this.db
      .select()
      .from(workspaceBuilds)
      .where(eq(workspaceBuilds.workspaceId, workspace.id))
      .orderBy(desc(workspaceBuilds.buildNumber))
      .limit(page.limit)
      .offset(page.offset);
    return rows.map(toBuildResponse);
  }

  /** One build with its log; 404 unless the subject may read its workspace. */
  async getBuild(subject: Subject, buildId: string): Promise<BuildWithLogResponse> {
    if (!isUuid(buildId)) throw new WorkspaceInputError("Invalid workspace build ID.");
    const build = await readBuild(this.db, buildId.toLowerCase());
    if (!build) throw new BuildNotFoundError();
    await loadWorkspaceFor(this.db, subject, build.workspaceId, "read").catch((error: unknown) => {
      throw error instanceof WorkspaceNotFoundError ? new BuildNotFoundError() : error;
    });
    return toBuildWithLogResponse(build);
  }

  /** See builds.ts: resolves with the final build row. */
  waitForBuild(buildId: string, options: WaitForBuildOptions = {}): Promise<BuildRow> {
    return waitForBuild(this.db, this.pubsub, buildId, options);
  }

  /** The workspace as rbac sees it for `subject` (owner + share), for `can(subject, "ssh", …)`. */
  policyObject(subject: Subject, workspaceId: string): Promise<PolicyObject> {
    return workspacePolicyObject(this.db, subject, checkWorkspaceId(workspaceId));
  }

  // ---- Templates ----

  async listTemplates(subject: Subject, options: templateOps.TemplateListOptions = {}): Promise<{ templates: TemplateResponse[]; total: number }> {
    return templateOps.listTemplates(this.db, subject, await this.runtime.isolation(), options);
  }

  async getTemplate(subject: Subject, ref: string): Promise<TemplateResponse> {
    return templateOps.getTemplate(this.db, subject, await this.runtime.isolation(), ref);
  }

  async createTemplate(subject: Subject, input: CreateTemplateInput): Promise<TemplateResponse> {
    return templateOps.createTemplate(this.db, subject, await this.runtime.isolation(), input);
  }

  async updateTemplate(subject: Subject, ref: string, patch: UpdateTemplateInput): Promise<TemplateResponse> {
    return templateOps.updateTemplate(this.db, subject, await this.runtime.isolation(), ref, patch);
  }

  deleteTemplate(subject: Subject, ref: string): Promise<void> {
    return templateOps.deleteTemplate(this.db, subject, ref);
  }

  // ---- Shares ----

  listShares(subject: Subject, workspaceId: string): Promise<ShareResponse[]> {
    return listShares(this.db, subject, workspaceId);
  }

  putShare(subject: Subject, workspaceId: string, userRef: string, role: ShareRole): Promise<ShareResponse> {
    return putShare(this.db, subject, workspaceId, userRef, role);
  }

  deleteShare(subject: Subject, workspaceId: string, userRef: string): Promise<void> {
    return deleteShare(this.db, subject, workspaceId, userRef);
  }

  /** By id or by name: models (create_workspace) and scripts know templates by the names list_templates shows. */
  async #templateForNewWorkspace(templateRef: string) {
    const invalid = (detail: string) => new WorkspaceInputError("Invalid template.", detail, [{ field: "template_id", detail }]);
    const template = await findTemplate(this.db, templateRef).catch((error: unknown) => {
      throw error instanceof TemplateNotFoundError ? invalid(isUuid(templateRef) ? "No template with this id." : `No template named "${templateRef}".`) : error;
    });
    if (template.deprecated) throw invalid(`Template "${template.name}" is deprecated and takes no new workspaces.`);
    return template;
  }

  /** The site's TTL for new workspaces (null: none). */
  async #defaultTtl(): Promise<number | null> {
    const ms = await readWorkspaceTtl(this.db);
    return ms > 0 ? ms : null;
  }

}
