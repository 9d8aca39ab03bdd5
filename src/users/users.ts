/**
 * The user store: rows, their API shape (UserResponse, sdk/schemas/users.ts), lookups by reference (`me`, id or username) and
 * creation with clear conflicts. Authorization is the caller's job (rbac/ via the routes).
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client.js";
import { users } from "../db/schema/index.js";
import { isRole } from "../rbac/policy.js";
import { UserConflictError, UserNotFoundError } from "./errors.js";
import { uniqueViolation } from "../db/errors.js";
import { isUuid } from "../util/parse.js";
import { ROLES, type Role, type UserResponse } from "../sdk/schemas/users.js";

export type UserRow = typeof users.$inferSelect;

export const roleListSchema = z.array(z.enum(ROLES, { message: `Role must be one of ${ROLES.join(", ")}.` })).max(ROLES.length * 2);

/** Sorted, distinct, and always including member: every user is at least a member. */
export function normalizeRoles(roles: readonly Role[]): Role[] {
  const set = new Set<Role>([...roles, "member"]);
  return ROLES.filter((role) => set.has(role));
}

export function rolesOf(row: Pick<UserRow, "roles">): Role[] {
  return normalizeRoles(row.roles.filter(isRole));
}

export function toUserResponse(row: UserRow): UserResponse {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    name: row.name,
    roles: rolesOf(row),
    status: row.status,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_seen_at: row.lastSeenAt?.toISOString() ?? null,
  };
}


/** Resolves `me`, a user id or a username; 404 when none matches. */
export async function findUserByRef(q: Queryable, ref: string, me: UserRow | undefined): Promise<UserRow> {
  if (ref === "me") {
    if (me) return me;
    throw new UserNotFoundError("User not found.");
  }
  const where = isUuid(ref) ? eq(users.id, ref) : sql`lower(${users.username}) = lower(${ref})`;
  const [row] = await q.select().from(users).where(where).limit(1);
  if (!row) throw new UserNotFoundError("User not found.");
  return row;
}

/** Looks a user up by email or username, case-insensitively (for login). */
export async function findUserByLogin(q: Queryable, login: string): Promise<UserRow | undefined> {
  const [row] = await q
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${login}) OR lower(${users.username}) = lower(${login})`)
    .limit(1);
  return row;
}

export interface NewUser {
  username: string;
  email: string;
  name?: string | undefined;
  hashedPassword: string;
  roles: readonly Role[];
}

export async function insertUser(q: Queryable, input: NewUser): Promise<UserRow> {
  try {
    const [row] = await q
      .insert(users)
      .values({
        username: input.username,
        email: input.email,
        name: input.name ?? "",
        hashedPassword: input.hashedPassword,
        roles: normalizeRoles(input.roles),
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  } catch (error) {
    const constraint = uniqueViolation(error);
    if (constraint === "users_username_lower_idx") throw new UserConflictError("A user with that username already exists.");
    if (constraint === "users_email_lower_idx") throw new UserConflictError("A user with that email already exists.");
    throw error;
  }
}
