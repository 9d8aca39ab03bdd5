/**
 * `/api/experimental/chats/providers` (behavior.md section 3): admin only. Keys are sealed at rest
 * and never returned; responses say `has_api_key`. Every supported provider is listed, with
 * `source` telling whether it is stored, an env preset, or merely supported.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { chatProviders } from "../../db/schema/index.js";
import { foreignKeyViolation, uniqueViolation } from "../../db/errors.js";
import { can } from "../../rbac/policy.js";
import {
  isProviderName,
  listProviderRows,
  toProviderResponse,
} from "../../llm/providers.js";
import { badRequest, conflict, forbidden, notFound } from "../errors.js";
import { requireActor, type Actor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { isUuid } from "../../util/parse.js";
import { type ProviderName, providerResponseSchema, providerTestResultSchema, SUPPORTED_PROVIDERS } from "../../sdk/schemas/llm.js";
import { credentialsFor } from "../../llm/providers.js";
import { listModelConfigs } from "../../llm/model-configs.js";
import { testProviderConnection } from "../../llm/provider-test.js";
import { TITLE_CANDIDATES } from "../../chatd/prompt/title.js";

const PROVIDERS_PATH = "/api/experimental/chats/providers";
/** Longest API key accepted; real ones are a few hundred bytes at most. */
const MAX_API_KEY_LENGTH = 4096;

export function assertDeploymentConfig(actor: Actor, action: "read" | "create" | "update" | "delete"): void {
  if (!can(actor.subject, action, { type: "deployment_config" })) throw forbidden();
}

/** An absolute http(s) URL, normalized without a trailing slash; "" clears it. */
export const baseUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    if (value === "") return true;
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "Base URL must be an absolute http:// or https:// URL.")
  .transform((value) => value.replace(/\/+$/, ""));

const providerParams = z.object({ id: z.string().max(64) });

function parseProviderId(id: string): string {
  if (!isUuid(id)) throw badRequest("Invalid chat provider ID.");
  return id;
}

export function registerProviderRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Chat providers"], auth: "user" as const, query: none };

  routes.add({
    ...common,
    method: "get",
    path: PROVIDERS_PATH,
    summary: "List every supported provider with how it is configured (admin)",
    params: none,
    body: none,
    status: 200,
    response: z.array(providerResponseSchema),
    handler: async ({ c }) => {
      assertDeploymentConfig(requireActor(c), "read");
      const rows = await listProviderRows(db);
      return SUPPORTED_PROVIDERS.map((provider) => toProviderResponse(provider, rows.get(provider), services.providerEnvKeys));
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: PROVIDERS_PATH,
    summary: "Configure a provider: key (stored sealed), base URL, display name (admin)",
    params: none,
    body: z.object({
      provider: z.string(),
      display_name: z.string().max(128).optional(),
      api_key: z.string().max(MAX_API_KEY_LENGTH).optional(),
      base_url: baseUrlSchema.optional(),
      enabled: z.boolean().optional(),
    }),
    status: 201,
    response: providerResponseSchema,
    handler: async ({ c, body }) => {
      const actor = requireActor(c);
      assertDeploymentConfig(actor, "create");
      const provider = body.provider.trim();
      if (!isProviderName(provider)) {
        throw badRequest("Invalid provider.", undefined, [{ field: "provider", detail: `Must be one of ${SUPPORTED_PROVIDERS.join(", ")}.` }]);
      }
      const apiKey = body.api_key?.trim() ?? "";
      try {
        const [row] = await db
          .insert(chatProviders)
          .values({
            provider,
            displayName: body.display_name?.trim() ?? "",
            apiKeySealed: apiKey === "" ? "" : services.cipher.seal(apiKey),
            baseUrl: body.base_url ?? "",
            enabled: body.enabled ?? true,
            createdBy: actor.user.id,
          })
          .returning();
        return toProviderResponse(provider, row, services.providerEnvKeys);
      } catch (error) {
        if (uniqueViolation(error) !== undefined) throw conflict("Chat provider already exists.");
        throw error;
      }
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: `${PROVIDERS_PATH}/:id`,
    summary: "Change a provider; an empty api_key removes the stored key (admin)",
    params: providerParams,
    body: z.object({
      display_name: z.string().max(128).optional(),
      api_key: z.string().max(MAX_API_KEY_LENGTH).optional(),
      base_url: baseUrlSchema.optional(),
      enabled: z.boolean().optional(),
    }),
    status: 200,
    response: providerResponseSchema,
    handler: async ({ c, params, body }) => {
      assertDeploymentConfig(requireActor(c), "update");
      const id = parseProviderId(params.id);
      const apiKey = body.api_key?.trim();
      const [row] = await db
        .update(chatProviders)
        .set({
          ...(body.display_name === undefined ? {} : { displayName: body.display_name.trim() }),
          ...(apiKey === undefined ? {} : { apiKeySealed: apiKey === "" ? "" : services.cipher.seal(apiKey) }),
          ...(body.base_url === undefined ? {} : { baseUrl: body.base_url }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          updatedAt: new Date(),
        })
        .where(eq(chatProviders.id, id))
        .returning();
      if (!row || !isProviderName(row.provider)) throw notFound("Chat provider not found.");
      const provider: ProviderName = row.provider;
      return toProviderResponse(provider, row, services.providerEnvKeys);
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: `${PROVIDERS_PATH}/:id`,
    summary: "Remove a provider and its model configs (admin)",
    params: providerParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      assertDeploymentConfig(requireActor(c), "delete");
      const id = parseProviderId(params.id);
      try {
        const removed = await db.delete(chatProviders).where(eq(chatProviders.id, id)).returning({ id: chatProviders.id });
        if (removed.length === 0) throw notFound("Chat provider not found.");
      } catch (error) {
        if (foreignKeyViolation(error)) throw badRequest("Provider models are still referenced by existing chats.");
        throw error;
      }
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: `${PROVIDERS_PATH}/:id/test`,
    summary: "Test a provider with one cheap call (no retry); the error, if any, is in the result (admin)",
    params: providerParams,
    body: z.object({ model: z.string().trim().min(1).max(256).optional() }),
    status: 200,
    response: providerTestResultSchema,
    handler: async ({ c, params, body }) => {
      assertDeploymentConfig(requireActor(c), "update");
      const id = parseProviderId(params.id);
      const [row] = await db.select().from(chatProviders).where(eq(chatProviders.id, id));
      if (!row || !isProviderName(row.provider)) throw notFound("Chat provider not found.");
      const provider: ProviderName = row.provider;
      // The model a chat would use first: the one named, else a configured one, else the cheap default.
      const configured = (await listModelConfigs(db, true)).find((config) => config.provider === provider)?.model;
      const model = body.model ?? configured ?? TITLE_CANDIDATES.find(([candidate]) => candidate === provider)?.[1];
      if (model === undefined) {
        throw badRequest("Name a model to test: this provider has no model configs and no default model.");
      }
      if (!row.enabled) return { ok: false, model, latency_ms: 0, error: "the provider is disabled" };
      const credentials = credentialsFor(provider, row, services.providerEnvKeys, services.cipher);
      if (!credentials) return { ok: false, model, latency_ms: 0, error: "no API key is stored for this provider and no environment preset is set" };
      return testProviderConnection(credentials, model);
    },
  });
}
