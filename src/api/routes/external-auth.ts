/**
 * The caller's own git host credentials (`/api/v2/external-auth/{provider}`): store a personal
 * token, see whether one is stored, remove it. The token is write-only: no response carries it.
 */
import { z } from "zod";
import { deleteGitToken, gitTokenLink, storeGitToken } from "../../gitauth/tokens.js";
import { externalAuthLinkSchema, GIT_PROVIDERS } from "../../sdk/schemas/users.js";
import { requireActor } from "../context.js";
import { notFound } from "../errors.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";

/** GitHub tokens are 40–255 characters; the bound keeps junk out of the cipher and the table. */
const MAX_TOKEN_LENGTH = 1024;

const providerParams = z.object({ provider: z.enum(GIT_PROVIDERS) });

export function registerExternalAuthRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["External auth"], auth: "user" as const, query: none, params: providerParams };

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/external-auth/:provider",
    summary: "Whether the caller has a token stored for a git host",
    body: none,
    status: 200,
    response: externalAuthLinkSchema,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      const link = await gitTokenLink(db, actor.user.id, params.provider);
      return { provider: params.provider, authenticated: link !== undefined, updated_at: link?.updatedAt.toISOString() ?? null };
    },
  });

  routes.add({
    ...common,
    method: "put",
    path: "/api/v2/external-auth/:provider",
    summary: "Store the caller's personal token for a git host (sealed at rest, never returned)",
    body: z.object({ access_token: z.string().trim().min(1).max(MAX_TOKEN_LENGTH).regex(/^\S+$/, "must not contain whitespace") }),
    status: 204,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      await storeGitToken(db, services.cipher, actor.user.id, params.provider, body.access_token);
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: "/api/v2/external-auth/:provider",
    summary: "Remove the caller's token for a git host",
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      if (!(await deleteGitToken(db, actor.user.id, params.provider))) throw notFound("No token is stored for this provider.");
    },
  });
}
