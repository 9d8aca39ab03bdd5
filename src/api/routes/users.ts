/**
 * User management (PRODUCT.md section 4): me, listing, creation, role changes, suspension. Every
 * handler asks the policy; rules that are about *which* roles, not *whether* (only an owner grants
 * or touches the owner role; nobody changes their own roles or suspends themselves), live here.
 */
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { hashPassword } from "../../auth/password.js";
import { users } from "../../db/schema/index.js";
import { authorizedFilter } from "../../rbac/sql.js";
import { can, type Action, type Subject } from "../../rbac/policy.js";
import type { Queryable } from "../../db/client.js";
import {
  findUserByRef,
  insertUser,
  normalizeRoles,
  roleListSchema,
  rolesOf,
  toUserResponse,
  type UserRow,
} from "../../users/users.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { requireActor, type Actor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { emailSchema, passwordSchema, type Role, usernameSchema, userResponseSchema } from "../../sdk/schemas/users.js";

export const userRefParams = z.object({ user: z.string().min(1).max(64) });

export const createUserRequestSchema = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  name: z.string().max(128).optional(),
  roles: roleListSchema.optional(),
});

/** Listing page size: default and ceiling. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

export const listUsersQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * The user `ref` names, when the actor may do `action` on them. A user the actor may not read
 * gets the same 404 as one that does not exist, so ids and usernames cannot be probed; one the
 * actor may read but not do `action` on gets 403 (an admin and another user's API tokens).
 */
export async function findUserFor(db: Queryable, actor: Actor, ref: string, action: Action): Promise<UserRow> {
  const target = await findUserByRef(db, ref, actor.user);
  const object = { type: "user" as const, ownerId: target.id };
  if (!can(actor.subject, "read", object)) throw notFound("User not found.");
  if (!can(actor.subject, action, object)) throw forbidden();
  return target;
}

function isOwner(roles: readonly Role[]): boolean {
  return roles.includes("owner");
}

function subjectIsOwner(subject: Subject): boolean {
  return subject.kind === "user" && isOwner(subject.roles);
}

/** Admins manage users, but the owner role stays in owners' hands. */
function assertMayManage(subject: Subject, target: UserRow, action: "update" | "delete"): void {
  if (!can(subject, action, { type: "user", ownerId: target.id })) throw forbidden();
  if (isOwner(rolesOf(target)) && !subjectIsOwner(subject)) throw forbidden("Only an owner can change another owner.");
}

export function registerUserRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;

  routes.add({
    method: "get",
    path: "/api/v2/users",
    summary: "List users (admin; a member reads /users/me and the users named in their shares)",
    tags: ["Users"],
    auth: "user",
    params: none,
    query: listUsersQuerySchema,
    body: none,
    status: 200,
    response: z.array(userResponseSchema),
    handler: async ({ c, query }) => {
      const actor = requireActor(c);
      // Listing is reading users in general (no owner): only roles that may read every user.
      if (!can(actor.subject, "read", { type: "user" })) throw forbidden();
      const rows = await db
        .select()
        .from(users)
        .where(authorizedFilter(actor.subject, "read", "user", { owner: users.id }))
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(query.limit)
        .offset(query.offset);
      return rows.map(toUserResponse);
    },
  });

  routes.add({
    method: "post",
    path: "/api/v2/users",
    summary: "Create a user (admin)",
    tags: ["Users"],
    auth: "user",
    params: none,
    query: none,
    body: createUserRequestSchema,
    status: 201,
    response: userResponseSchema,
    handler: async ({ c, body }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "create", { type: "user" })) throw forbidden();
      const roles = normalizeRoles(body.roles ?? []);
      if (isOwner(roles) && !subjectIsOwner(actor.subject)) throw forbidden("Only an owner can grant the owner role.");
      const hashedPassword = await hashPassword(body.password);
      return toUserResponse(await insertUser(db, { ...body, hashedPassword, roles }));
    },
  });

  routes.add({
    method: "get",
    path: "/api/v2/users/:user",
    summary: "Get a user by id, username or `me`",
    tags: ["Users"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: none,
    status: 200,
    response: userResponseSchema,
    handler: async ({ c, params }) => {
      return toUserResponse(await findUserFor(db, requireActor(c), params.user, "read"));
    },
  });

  routes.add({
    method: "patch",
    path: "/api/v2/users/:user/roles",
    summary: "Replace a user's roles (admin; only an owner grants or removes owner)",
    tags: ["Users"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: z.object({ roles: roleListSchema }),
    status: 200,
    response: userResponseSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      // Looked up as a read first: a user the actor cannot see is 404 here too, not 403.
      const target = await findUserFor(db, actor, params.user, "read");
      assertMayManage(actor.subject, target, "update");
      if (target.id === actor.user.id) throw badRequest("You cannot change your own roles.");
      const roles = normalizeRoles(body.roles);
      if (isOwner(roles) && !subjectIsOwner(actor.subject)) throw forbidden("Only an owner can grant the owner role.");
      const [row] = await db
        .update(users)
        .set({ roles, updatedAt: new Date() })
        .where(eq(users.id, target.id))
        .returning();
      return toUserResponse(row ?? target);
    },
  });

  for (const transition of ["suspend", "activate"] as const) {
    routes.add({
      method: "put",
      path: `/api/v2/users/:user/status/${transition}`,
      summary: transition === "suspend" ? "Suspend a user (admin): every credential is refused" : "Reactivate a suspended user (admin)",
      tags: ["Users"],
      auth: "user",
      params: userRefParams,
      query: none,
      body: none,
      status: 200,
      response: userResponseSchema,
      handler: async ({ c, params }) => {
        const actor = requireActor(c);
        const target = await findUserFor(db, actor, params.user, "read");
        assertMayManage(actor.subject, target, "update");
        if (target.id === actor.user.id) throw badRequest(`You cannot ${transition} yourself.`);
        const [row] = await db
          .update(users)
          .set({ status: transition === "suspend" ? "suspended" : "active", updatedAt: new Date() })
          .where(eq(users.id, target.id))
          .returning();
        return toUserResponse(row ?? target);
      },
    });
  }
}
