/**
 * `/api/experimental/chats/model-configs` and `/models` (behavior.md section 3). Admins see and
 * write every live config; other users read enabled ones (what they may pick for a chat).
 */
import { z } from "zod";
import { chatProviders } from "../../db/schema/index.js";
import { foreignKeyViolation, uniqueViolation } from "../../db/errors.js";
import type { Transaction } from "../../db/client.js";
import { can } from "../../rbac/policy.js";
import {
  createModelConfig,
  DEFAULT_COMPRESSION_THRESHOLD,
  deleteModelConfig,
  findLiveModelConfig,
  listModelConfigs,
  toModelConfigResponse,
  updateModelConfig,
} from "../../llm/model-configs.js";
import { isProviderName, listProviderRows, unavailableReason } from "../../llm/providers.js";
import { badRequest, conflict, notFound, validationsFromZod } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { assertDeploymentConfig } from "./llm-providers.js";
import { isUuid } from "../../util/parse.js";
import { chatModelsResponseSchema } from "../../sdk/schemas/chats.js";
import { modelCallConfigSchema, modelConfigResponseSchema, type ProviderName, SUPPORTED_PROVIDERS } from "../../sdk/schemas/llm.js";

const MODEL_CONFIGS_PATH = "/api/experimental/chats/model-configs";
/** Model ids are short ("claude-sonnet-4-5", "openai/gpt-5"); this bounds a pathological one. */
const MAX_MODEL_LENGTH = 256;

/** Loose on purpose: the handler checks each field itself to answer behavior.md's exact messages. */
const modelConfigBody = z.object({
  provider: z.string().optional(),
  model: z.string().max(MAX_MODEL_LENGTH).optional(),
  display_name: z.string().max(256).optional(),
  enabled: z.boolean().optional(),
  is_default: z.boolean().optional(),
  context_limit: z.number().optional(),
  compression_threshold: z.number().optional(),
  model_config: z.unknown().optional(),
});
type ModelConfigBody = z.output<typeof modelConfigBody>;

function checkProvider(value: string | undefined): ProviderName {
  const provider = value?.trim() ?? "";
  if (!isProviderName(provider)) {
    throw badRequest("Invalid provider.", undefined, [{ field: "provider", detail: `Must be one of ${SUPPORTED_PROVIDERS.join(", ")}.` }]);
  }
  return provider;
}
function checkModel(value: string | undefined): string {
  const model = value?.trim() ?? "";
  if (model === "") throw badRequest("Model is required.", undefined, [{ field: "model", detail: "Model is required." }]);
  return model;
}
function checkContextLimit(value: number | undefined): number {
  if (value === undefined || !Number.isSafeInteger(value) || value <= 0) {
    throw badRequest("Context limit is required.", undefined, [{ field: "context_limit", detail: "Must be a whole number above 0." }]);
  }
  return value;
}
function checkThreshold(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw badRequest("Invalid compression threshold.", undefined, [{ field: "compression_threshold", detail: "Must be a whole number from 0 to 100." }]);
  }
  return value;
}
function checkOptions(value: unknown): z.output<typeof modelCallConfigSchema> {
  const parsed = modelCallConfigSchema.safeParse(value ?? {});
  if (!parsed.success) throw badRequest("Invalid model config.", undefined, validationsFromZod(parsed.error, "model_config"));
  return parsed.data;
}

const configParams = z.object({ id: z.string().max(64) });
function parseConfigId(id: string): string {
  if (!isUuid(id)) throw badRequest("Invalid chat model config ID.");
  return id;
}

export function registerModelRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Chat models"], auth: "user" as const, query: none };

  /** An env-preset provider gets its row on first use, so model configs can reference it. */
  const providerRowFor = (provider: ProviderName) => async (tx: Transaction) => {
    if (services.providerEnvKeys[provider] === undefined) return;
    await tx.insert(chatProviders).values({ provider }).onConflictDoNothing();
  };

  routes.add({
    ...common,
    method: "get",
    path: MODEL_CONFIGS_PATH,
    summary: "List model configs (admins: every live one; others: enabled ones)",
    params: none,
    body: none,
    status: 200,
    response: z.array(modelConfigResponseSchema),
    handler: async ({ c }) => {
      const admin = can(requireActor(c).subject, "read", { type: "deployment_config" });
      return (await listModelConfigs(db, !admin)).map(toModelConfigResponse);
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: MODEL_CONFIGS_PATH,
    summary: "Add a model config; the first one (or one with is_default) becomes the only default (admin)",
    params: none,
    body: modelConfigBody,
    status: 201,
    response: modelConfigResponseSchema,
    handler: async ({ c, body }) => {
      const actor = requireActor(c);
      assertDeploymentConfig(actor, "create");
      const provider = checkProvider(body.provider);
      const input = {
        provider,
        model: checkModel(body.model),
        contextLimit: checkContextLimit(body.context_limit),
        compressionThreshold: checkThreshold(body.compression_threshold ?? DEFAULT_COMPRESSION_THRESHOLD),
        options: checkOptions(body.model_config),
        displayName: body.display_name?.trim() ?? "",
        enabled: body.enabled ?? true,
        isDefault: body.is_default ?? false,
        createdBy: actor.user.id,
      };
      try {
        return toModelConfigResponse(await createModelConfig(db, input, providerRowFor(provider)));
      } catch (error) {
        if (foreignKeyViolation(error)) throw badRequest("Chat provider is not configured.");
        if (uniqueViolation(error) !== undefined) throw conflict("Chat model config conflicts with an existing one.");
        throw error;
      }
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: `${MODEL_CONFIGS_PATH}/:id`,
    summary: "Change a model config; un-defaulting the default promotes another (admin)",
    params: configParams,
    body: modelConfigBody,
    status: 200,
    response: modelConfigResponseSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      assertDeploymentConfig(actor, "update");
      const id = parseConfigId(params.id);
      const patch = checkPatch(body);
      try {
        const row = await updateModelConfig(db, id, { ...patch, updatedBy: actor.user.id });
        if (!row) throw notFound("Chat model config not found.");
        return toModelConfigResponse(row);
      } catch (error) {
        if (foreignKeyViolation(error)) throw badRequest("Chat provider is not configured.");
        throw error;
      }
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: `${MODEL_CONFIGS_PATH}/:id`,
    summary: "Soft-delete a model config (history keeps its costs) and re-ensure a default (admin)",
    params: configParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      assertDeploymentConfig(requireActor(c), "delete");
      const id = parseConfigId(params.id);
      if (!(await deleteModelConfig(db, id))) throw notFound("Chat model config not found.");
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/experimental/chats/models",
    summary: "Models users can pick, grouped by provider, with provider availability",
    params: none,
    body: none,
    status: 200,
    response: chatModelsResponseSchema,
    handler: async () => {
      const rows = await listProviderRows(db);
      const configs = await listModelConfigs(db, true);
      const usable = configs.filter((config) => {
        const row = isProviderName(config.provider) ? rows.get(config.provider) : undefined;
        return row?.enabled !== false;
      });
      const providers = usable.length > 0 ? [...new Set(usable.map((config) => config.provider))].filter(isProviderName).sort() : [...SUPPORTED_PROVIDERS];
      return {
        providers: providers.map((provider) => {
          const reason = unavailableReason(provider, rows.get(provider), services.providerEnvKeys);
          const seen = new Set<string>();
          const models = usable
            .filter((config) => config.provider === provider && !seen.has(config.model) && seen.add(config.model))
            .sort((a, b) => a.model.localeCompare(b.model))
            .map((config) => ({ id: `${provider}:${config.model}`, provider, model: config.model, display_name: config.displayName || config.model }));
          return { provider, available: reason === undefined, ...(reason ? { unavailable_reason: reason } : {}), models };
        }),
      };
    },
  });
}

function checkPatch(body: ModelConfigBody) {
  return {
    ...(body.provider === undefined ? {} : { provider: checkProvider(body.provider) }),
    ...(body.model === undefined ? {} : { model: checkModel(body.model) }),
    ...(body.context_limit === undefined ? {} : { contextLimit: checkContextLimit(body.context_limit) }),
    ...(body.compression_threshold === undefined ? {} : { compressionThreshold: checkThreshold(body.compression_threshold) }),
    ...(body.model_config === undefined ? {} : { options: checkOptions(body.model_config) }),
    ...(body.display_name === undefined ? {} : { displayName: body.display_name.trim() }),
    ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
    ...(body.is_default === undefined ? {} : { isDefault: body.is_default }),
  };
}
