/**
 * Workspace shares: a user other than the owner granted `read` or `use` (use = ssh +
 * application_connect, PRODUCT.md section 5). Managing shares takes `update` on the workspace
 * (its owner, or an admin/owner role); reading them takes `read`.
 *
 * Invariants:
 * - At most one share per (workspace, user): putting a share replaces the role.
 * - The owner is never a share holder: they already hold everything.
 * - A share never grants more than its grantor holds: a `use` share needs `ssh` on the workspace.
 *   An admin may manage any workspace but not use another's (PR #23094), and would otherwise
 *   give themselves (or anyone) that use with a share.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { users, workspaceShares } from "../db/schema/index.js";
import type { Subject } from "../rbac/policy.js";
import { isUuid } from "../util/parse.js";
import { loadWorkspaceFor } from "./access.js";
import { WorkspaceForbiddenError, WorkspaceInputError, WorkspaceNotFoundError } from "./errors.js";
import type { ShareResponse, ShareRole } from "../sdk/schemas/workspaces.js";

export class ShareUserNotFoundError extends WorkspaceNotFoundError {
  constructor() {
    super("User not found.");
    this.name = "ShareUserNotFoundError";
  }
}

async function findUserId(q: Queryable, ref: string): Promise<string> {
  const where = isUuid(ref) ? eq(users.id, ref.toLowerCase()) : sql`lower(${users.username}) = lower(${ref})`;
  const [row] = await q.select({ id: users.id }).from(users).where(where).limit(1);
  if (!row) throw new ShareUserNotFoundError();
  return row.id;
}

async function sharesOf(q: Queryable, workspaceId: string, userId?: string): Promise<ShareResponse[]> {
  const rows = await q
    .select({ userId: workspaceShares.userId, username: users.username, name: users.name, role: workspaceShares.role, createdAt: workspaceShares.createdAt })
    .from(workspaceShares)
    .innerJoin(users, eq(users.id, workspaceShares.userId))
    .where(and(eq(workspaceShares.workspaceId, workspaceId), userId === undefined ? undefined : eq(workspaceShares.userId, userId)))
    .orderBy(asc(users.username));
  return rows.map((row) => ({ user_id: row.userId, username: row.username, name: row.name, role: row.role, created_at: row.createdAt.toISOString() }));
}

export async function listShares(q: Queryable, subject: Subject, workspaceId: string): Promise<ShareResponse[]> {
  const workspace = await loadWorkspaceFor(q, subject, workspaceId, "read");
  return sharesOf(q, workspace.id);
}

/** Creates or changes `userRef`'s share (user id or username). */
export async function putShare(q: Queryable, subject: Subject, workspaceId: string, userRef: string, role: ShareRole): Promise<ShareResponse> {
  const workspace = await loadWorkspaceFor(q, subject, workspaceId, "update");
  if (role === "use") {
    try {
      await loadWorkspaceFor(q, subject, workspaceId, "ssh");
    } catch (error) {
      if (error instanceof WorkspaceForbiddenError) throw new WorkspaceForbiddenError("Only someone who may use a workspace can share its use.");
      throw error;
    }
  }
  const userId = await findUserId(q, userRef);
  if (userId === workspace.ownerId) throw new WorkspaceInputError("The owner of a workspace cannot be given a share of it.");
  await q
    .insert(workspaceShares)
    .values({ workspaceId: workspace.id, userId, role })
    .onConflictDoUpdate({ target: [workspaceShares.workspaceId, workspaceShares.userId], set: { role } });
  const [share] = await sharesOf(q, workspace.id, userId);
  if (!share) throw new Error("the share just written is missing");
  return share;
}

export async function deleteShare(q: Queryable, subject: Subject, workspaceId: string, userRef: string): Promise<void> {
  const workspace = await loadWorkspaceFor(q, subject, workspaceId, "update");
  const userId = await findUserId(q, userRef);
  const removed = await q
    .delete(workspaceShares)
    .where(and(eq(workspaceShares.workspaceId, workspace.id), eq(workspaceShares.userId, userId)))
    .returning({ userId: workspaceShares.userId });
  if (removed.length === 0) throw new WorkspaceNotFoundError("This user has no share of the workspace.");
}
