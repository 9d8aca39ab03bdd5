/** Groups and their members (admin; PRODUCT.md "Contract details"). Used later for usage limits. */
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { groupMembers, groups } from "../../db/schema/index.js";
import { can } from "../../rbac/policy.js";
import {
  findGroupByRef,
  groupNameSchema,
  toGroupResponse,
  toGroupResponses,
  withGroupNameConflict,
} from "../../users/groups.js";
import { findUserByRef } from "../../users/users.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { requireActor, type Actor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { groupResponseSchema } from "../../sdk/schemas/users.js";

const groupParams = z.object({ group: z.string().min(1).max(64) });
const displayNameSchema = z.string().max(128);

function assertCan(actor: Actor, action: "create" | "read" | "update" | "delete"): void {
  if (!can(actor.subject, action, { type: "group" })) throw forbidden();
}

export function registerGroupRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Groups"], auth: "user" as const, query: none };

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/groups",
    summary: "List groups with their members (admin)",
    params: none,
    body: none,
    status: 200,
    response: z.array(groupResponseSchema),
    handler: async ({ c }) => {
      assertCan(requireActor(c), "read");
      return toGroupResponses(db, await db.select().from(groups).orderBy(asc(groups.name)));
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: "/api/v2/groups",
    summary: "Create a group (admin)",
    params: none,
    body: z.object({ name: groupNameSchema, display_name: displayNameSchema.optional() }),
    status: 201,
    response: groupResponseSchema,
    handler: async ({ c, body }) => {
      assertCan(requireActor(c), "create");
      const [row] = await withGroupNameConflict(() =>
        db.insert(groups).values({ name: body.name, displayName: body.display_name ?? "" }).returning(),
      );
      if (!row) throw new Error("insert returned no row");
      return toGroupResponse(db, row);
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/groups/:group",
    summary: "Get a group by id or name (admin)",
    params: groupParams,
    body: none,
    status: 200,
    response: groupResponseSchema,
    handler: async ({ c, params }) => {
      assertCan(requireActor(c), "read");
      return toGroupResponse(db, await findGroupByRef(db, params.group));
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: "/api/v2/groups/:group",
    summary: "Rename a group or change its display name (admin)",
    params: groupParams,
    body: z.object({ name: groupNameSchema.optional(), display_name: displayNameSchema.optional() }),
    status: 200,
    response: groupResponseSchema,
    handler: async ({ c, params, body }) => {
      assertCan(requireActor(c), "update");
      const group = await findGroupByRef(db, params.group);
      const [row] = await withGroupNameConflict(() =>
        db
          .update(groups)
          .set({
            ...(body.name === undefined ? {} : { name: body.name }),
            ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
            updatedAt: new Date(),
          })
          .where(eq(groups.id, group.id))
          .returning(),
      );
      return toGroupResponse(db, row ?? group);
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: "/api/v2/groups/:group",
    summary: "Delete a group (admin)",
    params: groupParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      assertCan(requireActor(c), "delete");
      const group = await findGroupByRef(db, params.group);
      await db.delete(groups).where(eq(groups.id, group.id));
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: "/api/v2/groups/:group/members",
    summary: "Add a user to a group (admin)",
    params: groupParams,
    body: z.object({ user_id: z.string().min(1).max(64) }),
    status: 201,
    response: groupResponseSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      assertCan(actor, "update");
      const group = await findGroupByRef(db, params.group);
      const user = await findUserByRef(db, body.user_id, actor.user).catch(() => {
        throw badRequest("User not found.", undefined, [{ field: "user_id", detail: "No user with this id." }]);
      });
      await db.insert(groupMembers).values({ groupId: group.id, userId: user.id }).onConflictDoNothing();
      return toGroupResponse(db, group);
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: "/api/v2/groups/:group/members/:user",
    summary: "Remove a user from a group (admin)",
    params: groupParams.extend({ user: z.string().min(1).max(64) }),
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      assertCan(actor, "update");
      const group = await findGroupByRef(db, params.group);
      const user = await findUserByRef(db, params.user, actor.user);
      const removed = await db
        .delete(groupMembers)
        .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, user.id)))
        .returning({ userId: groupMembers.userId });
      if (removed.length === 0) throw notFound("User is not a member of this group.");
    },
  });
}
