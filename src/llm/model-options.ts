/**
 * A model config's `model_config` object (PRODUCT.md "Contract details"): call settings, pricing
 * and per-provider options. Stored as the `options` jsonb column. Unknown keys are dropped, so
 * legacy or misspelled keys cannot reach the provider call.
 */
import { z } from "zod";
import { modelCostSchema } from "./cost.js";

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

/**
 * Reads stored options. Older rows may carry the price keys at the top level (behavior.md
 * section 7); they are folded into `cost`. Anything unreadable yields empty options rather than
 * failing the chat: the config was validated when it was written.
 */
export function readStoredOptions(stored: unknown): ModelCallConfig {
  const record = typeof stored === "object" && stored !== null && !Array.isArray(stored) ? { ...stored } : {};
  const legacyKeys = [
    "input_price_per_million_tokens",
    "output_price_per_million_tokens",
    "cache_read_price_per_million_tokens",
    "cache_write_price_per_million_tokens",
  ];
  const legacy = Object.fromEntries(legacyKeys.filter((key) => key in record).map((key) => [key, Reflect.get(record, key)]));
  const withCost = !("cost" in record) && Object.keys(legacy).length > 0 ? { ...record, cost: legacy } : record;
  const parsed = modelCallConfigSchema.safeParse(withCost);
  return parsed.success ? parsed.data : {};
}
