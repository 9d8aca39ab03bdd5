/**
 * API tokens (PRODUCT.md section 4): `POST /users/{user}/keys` shows the token once; listing never
 * does. Creating, listing and deleting tokens are personal actions on the user, so by default
 * only the user (or an owner) can touch them.
 */
import { z } from "zod";
import { createApiKey, deleteApiKey, listApiKeys } from "../../auth/credentials.js";
import { apiKeyResponseSchema, createKeyRequestSchema, createKeyResponseSchema } from "../../sdk/schemas/users.js";
import { notFound } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { findUserFor, userRefParams } from "./users.js";

export function registerKeyRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;

  routes.add({
    method: "post",
    path: "/api/v2/users/:user/keys",
    summary: "Create an API token; the key is shown only in this response",
    tags: ["Users"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: createKeyRequestSchema,
    status: 201,
    response: createKeyResponseSchema,
    handler: async ({ c, params, body }) => {
      const target = await findUserFor(db, requireActor(c), params.user, "update_personal");
      const lifetimeMs = body.lifetime_seconds === undefined ? undefined : body.lifetime_seconds * 1000;
      return createApiKey(db, target.id, { name: body.name ?? "", lifetimeMs });
    },
  });

  routes.add({
    method: "get",
    path: "/api/v2/users/:user/keys",
    summary: "List a user's API tokens (never their secrets)",
    tags: ["Users"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: none,
    status: 200,
    response: z.array(apiKeyResponseSchema),
    handler: async ({ c, params }) => {
      const target = await findUserFor(db, requireActor(c), params.user, "read_personal");
      const keys = await listApiKeys(db, target.id);
      return keys.map((key) => ({
        id: key.id,
        name: key.name,
        created_at: key.createdAt.toISOString(),
        last_used_at: key.lastUsedAt?.toISOString() ?? null,
        expires_at: key.expiresAt?.toISOString() ?? null,
      }));
    },
  });

  routes.add({
    method: "delete",
    path: "/api/v2/users/:user/keys/:id",
    summary: "Delete an API token",
    tags: ["Users"],
    auth: "user",
    params: userRefParams.extend({ id: z.string().min(1).max(64) }),
    query: none,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const target = await findUserFor(db, requireActor(c), params.user, "update_personal");
      if (!(await deleteApiKey(db, target.id, params.id))) throw notFound("API key not found.");
    },
  });
}
