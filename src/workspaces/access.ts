/**
 * Who may do what to a workspace: the policy object (owner plus the subject's share), the lookup
 * that answers 404 for an unreadable workspace and 403 for a readable but forbidden action, and
 * the share subquery for listings.
 *
 * Invariants:
 * - Decisions go through rbac's `can` / `authorizedFilter` only; nothing here compares roles.
 * - An unreadable workspace is indistinguishable from a missing one (ids cannot be probed).
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { workspaceShares, workspaces } from "../db/schema/index.js";
import { can, type Action, type PolicyObject, type Subject } from "../rbac/policy.js";
import type { AuthorizedFilterOptions } from "../rbac/sql.js";
import { isUuid } from "../util/parse.js";
import type { WorkspaceRow } from "./builds.js";
import { WorkspaceForbiddenError, WorkspaceInputError, WorkspaceNotFoundError } from "./errors.js";
import type { ShareRole } from "../sdk/schemas/workspaces.js";

export type WorkspaceAction = Extract<Action, "read" | "update" | "delete" | "ssh" | "application_connect">;

export async function shareRoleOf(q: Queryable, workspaceId: string, subject: Subject): Promise<ShareRole | undefined> {
  if (subject.kind !== "user") return undefined;
  const [share] = await q
    .select({ role: workspaceShares.role })
    .from(workspaceShares)
    .where(and(eq(workspaceShares.workspaceId, workspaceId), eq(workspaceShares.userId, subject.id)))
    .limit(1);
  return share?.role;
}

export function policyObjectFor(workspace: Pick<WorkspaceRow, "ownerId">, shareRole: ShareRole | undefined): PolicyObject {
  return { type: "workspace", ownerId: workspace.ownerId, ...(shareRole ? { shareRole } : {}) };
}

/** A workspace id as given by a caller: a UUID, else 400 (nothing is looked up). */
export function checkWorkspaceId(id: string): string {
  if (!isUuid(id)) throw new WorkspaceInputError("Invalid workspace ID.");
  return id.toLowerCase();
}

/** The row and the subject's policy object; 404 when missing or unreadable, 403 when `action` is not allowed. */
async function authorizedWorkspace(q: Queryable, subject: Subject, id: string, action: WorkspaceAction): Promise<{ row: WorkspaceRow; object: PolicyObject }> {
  const workspaceId = checkWorkspaceId(id);
  const [row] = await q.select().from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1);
  if (!row) throw new WorkspaceNotFoundError();
  const object = policyObjectFor(row, await shareRoleOf(q, row.id, subject));
  if (!can(subject, "read", object)) throw new WorkspaceNotFoundError();
  if (action !== "read" && !can(subject, action, object)) throw new WorkspaceForbiddenError();
  return { row, object };
}

/**
 * The workspace when `subject` may read it and do `action` on it: 404 when missing or
 * unreadable, 403 when readable but `action` is not allowed.
 */
export async function loadWorkspaceFor(q: Queryable, subject: Subject, id: string, action: WorkspaceAction): Promise<WorkspaceRow> {
  return (await authorizedWorkspace(q, subject, id, action)).row;
}

/**
 * The policy object of a workspace the subject can read, for callers that decide themselves
 * (a chat attaching a workspace checks `ssh`). 404 like loadWorkspaceFor.
 */
export async function workspacePolicyObject(q: Queryable, subject: Subject, id: string): Promise<PolicyObject> {
  return (await authorizedWorkspace(q, subject, id, "read")).object;
}

/** `authorizedFilter` options: the ids of workspaces shared with the subject at least at `role`. */
export function workspaceShareFilter(q: Queryable, subject: Subject): AuthorizedFilterOptions {
  if (subject.kind !== "user") return {};
  return {
    sharedIds: (role) =>
      q
        .select({ id: workspaceShares.workspaceId })
        .from(workspaceShares)
        .where(and(eq(workspaceShares.userId, subject.id), inArray(workspaceShares.role, role === "read" ? ["read", "use"] : ["use"])))
        .getSQL(),
  };
}
