/** The group store: groups, their members, lookups by id or name, and their API shape. */
import { asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client.js";
import { groupMembers, groups, users } from "../db/schema/index.js";
import { UserConflictError, UserNotFoundError } from "./errors.js";
import { uniqueViolation } from "../db/errors.js";
import { isUuid } from "../util/parse.js";
import type { GroupResponse } from "../sdk/schemas/users.js";

export type GroupRow = typeof groups.$inferSelect;

export const groupNameSchema = z
  .string()
  .min(1, "Group name is required.")
  .max(64, "Group name must be at most 64 characters.")
  .regex(/^[a-zA-Z0-9]+(?:[-_][a-zA-Z0-9]+)*$/, "Group name may contain letters, digits, and - or _ between them.");


export async function findGroupByRef(q: Queryable, ref: string): Promise<GroupRow> {
  const where = isUuid(ref) ? eq(groups.id, ref) : sql`lower(${groups.name}) = lower(${ref})`;
  const [row] = await q.select().from(groups).where(where).limit(1);
  if (!row) throw new UserNotFoundError("Group not found.");
  return row;
}

/** The API shape of several groups, loading all their members in one query. */
export async function toGroupResponses(q: Queryable, rows: GroupRow[]): Promise<GroupResponse[]> {
  const ids = rows.map((row) => row.id);
  const members =
    ids.length === 0
      ? []
      : await q
          .select({ groupId: groupMembers.groupId, id: users.id, username: users.username, name: users.name, email: users.email })
          .from(groupMembers)
          .innerJoin(users, eq(users.id, groupMembers.userId))
          .where(inArray(groupMembers.groupId, ids))
          .orderBy(asc(users.username));
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    display_name: row.displayName,
    members: members.filter((m) => m.groupId === row.id).map(({ id, username, name, email }) => ({ id, username, name, email })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }));
}

export async function toGroupResponse(q: Queryable, row: GroupRow): Promise<GroupResponse> {
  const [response] = await toGroupResponses(q, [row]);
  if (!response) throw new Error("group response missing");
  return response;
}

/** Runs a write that may collide on the group name, turning the collision into a 409. */
export async function withGroupNameConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (uniqueViolation(error) === "groups_name_lower_idx") throw new UserConflictError("A group with that name already exists.");
    throw error;
  }
}
