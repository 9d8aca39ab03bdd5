/**
 * A model config's `model_config` object as stored (the `options` jsonb column). Its schema,
 * `ModelCallConfig`, is a wire type (sdk/schemas/llm.ts); unknown keys are dropped, so legacy or
 * misspelled keys cannot reach the provider call.
 */
import { modelCallConfigSchema, type ModelCallConfig } from "../sdk/schemas/llm.js";

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
