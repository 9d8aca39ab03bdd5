/**
 * Providers and model configs as the API shows them, and a model config's `model_config` object
 * (PRODUCT.md "Contract details"): call settings, pricing and per-provider options. Unknown keys
 * of `model_config` are dropped, so legacy or misspelled keys cannot reach the provider call.
 */
import { z } from "zod";
import { canonicalDecimal } from "./decimal.js";

/** The providers chatd can call (the database's CHECK keeps rows within them). */
export const SUPPORTED_PROVIDERS = ["openai", "anthropic", "google", "openai-compat"] as const;
export type ProviderName = (typeof SUPPORTED_PROVIDERS)[number];
export const providerNameSchema = z.enum(SUPPORTED_PROVIDERS);

export const providerResponseSchema = z
  .object({
    id: z.uuid(),
    provider: providerNameSchema,
    display_name: z.string(),
    enabled: z.boolean(),
    has_api_key: z.boolean(),
    base_url: z.string().optional(),
    source: z.enum(["database", "env_preset", "supported"]),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: "ChatProvider" });
export type ProviderResponse = z.infer<typeof providerResponseSchema>;

/** `POST /chats/providers/{id}/test`: the outcome of one cheap call, not an HTTP failure. */
export const providerTestResultSchema = z
  .object({
    ok: z.boolean(),
    model: z.string(),
    latency_ms: z.number(),
    error: z.string().optional(),
  })
  .meta({ id: "ChatProviderTestResult" });
export type ProviderTestResultResponse = z.infer<typeof providerTestResultSchema>;

/** One price: a JSON number or decimal string on input, the canonical decimal string on output. */
const priceSchema = z
  .union([z.number(), z.string(), z.null()])
  .transform((value, ctx): string | undefined => {
    if (value === null) return undefined;
    const canonical = canonicalDecimal(value);
    if (!canonical.ok) {
      ctx.addIssue({ code: "custom", message: `price ${canonical.reason}` });
      return z.NEVER;
    }
    return canonical.text;
  })
  .pipe(z.string().regex(/^\d+(\.\d+)?$/).optional())
  .optional()
  .meta({ description: "Decimal USD per 1M tokens (≥ 0), returned as a decimal string.", examples: ["3", "0.3"] });

export const modelCostSchema = z
  .object({
    input_price_per_million_tokens: priceSchema,
    output_price_per_million_tokens: priceSchema,
    cache_read_price_per_million_tokens: priceSchema,
    cache_write_price_per_million_tokens: priceSchema,
  })
  .meta({ id: "ModelCostConfig" });

/** The stored and returned shape: every set price is a canonical decimal string. */
export type ModelCost = z.output<typeof modelCostSchema>;
/** What a client may send: numbers or strings, null meaning unset. */
export type ModelCostInput = z.input<typeof modelCostSchema>;

/** A bare domain ("example.com", "docs.example.com"), as the providers' web search filters take. */
const domainSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!https?:\/\/)[A-Za-z0-9.-]+$/, "Use a bare domain such as example.com, without http:// or a path.");
/** The providers accept at most 100 domains per filter. */
const domainListSchema = z.array(domainSchema).max(100);

export const providerOptionsSchema = z.object({
  anthropic: z
    .object({
      web_search_enabled: z.boolean().optional(),
      allowed_domains: domainListSchema.optional(),
      blocked_domains: domainListSchema.optional(),
    })
    .optional(),
  openai: z
    .object({
      web_search_enabled: z.boolean().optional(),
      search_context_size: z.enum(["low", "medium", "high"]).optional(),
      allowed_domains: domainListSchema.optional(),
    })
    .optional(),
  google: z.object({ web_search_enabled: z.boolean().optional() }).optional(),
});

export const modelCallConfigSchema = z
  .object({
    max_output_tokens: z.number().int().positive().max(10_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().positive().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    cost: modelCostSchema.optional(),
    provider_options: providerOptionsSchema.optional(),
  })
  .meta({ id: "ModelCallConfig" });
export type ModelCallConfig = z.output<typeof modelCallConfigSchema>;

export const modelConfigResponseSchema = z
  .object({
    id: z.uuid(),
    provider: providerNameSchema,
    model: z.string(),
    display_name: z.string(),
    enabled: z.boolean(),
    is_default: z.boolean(),
    context_limit: z.number().int(),
    compression_threshold: z.number().int(),
    model_config: modelCallConfigSchema,
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: "ChatModelConfig" });
export type ModelConfigResponse = z.infer<typeof modelConfigResponseSchema>;
/** The same type by its OpenAPI name. */
export type ChatModelConfig = ModelConfigResponse;
