/**
 * Token usage of one LLM step, normalized across providers to the columns of `chat_messages`
 * (input, output, reasoning, cache read, cache creation, total).
 *
 * Invariants:
 * - `inputTokens` is the NON-cached input. The AI SDK's `inputTokens` is the whole prompt for
 *   every provider we support (Anthropic's is the SDK's sum of input + cache read + cache write;
 *   OpenAI's and Google's prompt counts include cached tokens), so it is never stored as is.
 * - `outputTokens` includes reasoning, as every provider bills it (Google's candidates + thoughts
 *   are summed by the SDK); `reasoningTokens` is informational and never added again.
 * - A value the provider did not report stays null, never 0: cost and the usage summary tell
 *   "unknown" from "zero".
 * - Only fields present in both AI SDK 6 and 7 are read (`inputTokenDetails`,
 *   `outputTokenDetails`), never the deprecated `cachedInputTokens` / `reasoningTokens`.
 */
import type { LanguageModelUsage } from "ai";
import type { ProviderName } from "../sdk/schemas/llm.js";

export type { ProviderName };

export interface NormalizedUsage {
  /** Non-cached input tokens. */
  inputTokens: number | null;
  /** Output tokens, reasoning included. */
  outputTokens: number | null;
  reasoningTokens: number | null;
  cacheReadTokens: number | null;
  cacheCreationTokens: number | null;
  totalTokens: number | null;
}

/**
 * Whether the SDK's `inputTokens` (the prompt total) already counts cache reads and writes, per
 * provider. It does for all four, which is why non-cached input is total − read − write when
 * the SDK gives no `noCacheTokens`. Listed per provider so that adding one forces the question.
 */
const INPUT_TOTAL_INCLUDES_CACHE: Readonly<Record<ProviderName, boolean>> = {
  // @ai-sdk/openai: prompt_tokens / input_tokens include cached_tokens (and cache_write_tokens).
  openai: true,
  // @ai-sdk/anthropic: the SDK reports input_tokens + cache_creation + cache_read as the total.
  anthropic: true,
  // @ai-sdk/google: promptTokenCount includes cachedContentTokenCount.
  google: true,
  // @ai-sdk/openai-compatible: prompt_tokens includes prompt_tokens_details.cached_tokens.
  "openai-compat": true,
};

/**
 * A token count as stored: a non-negative integer, or null when unknown. Negative or non-finite
 * values (a broken compatible server) are unknown; a fraction is rounded because the columns
 * are bigint.
 */
function tokenCount(value: number | undefined | null): number | null {
  if (value === undefined || value === null || !Number.isFinite(value) || value < 0) return null;
  return Math.round(value);
}

/** Sum of the known values, or null when none is known. */
function sumKnown(values: ReadonlyArray<number | null>): number | null {
  let total: number | null = null;
  for (const value of values) {
    if (value !== null) total = (total ?? 0) + value;
  }
  return total;
}

export function normalizeUsage(provider: ProviderName, usage: LanguageModelUsage): NormalizedUsage {
  // The detail objects are required in the SDK's type, but a hand-built or older usage object
  // may lack them; reading them optionally costs nothing.
  const inputDetails: Partial<LanguageModelUsage["inputTokenDetails"]> = usage.inputTokenDetails ?? {};
  const outputDetails: Partial<LanguageModelUsage["outputTokenDetails"]> = usage.outputTokenDetails ?? {};

  const cacheReadTokens = tokenCount(inputDetails.cacheReadTokens);
  const cacheCreationTokens = tokenCount(inputDetails.cacheWriteTokens);
  const promptTotal = tokenCount(usage.inputTokens);

  let inputTokens = tokenCount(inputDetails.noCacheTokens);
  if (inputTokens === null && promptTotal !== null) {
    inputTokens = INPUT_TOTAL_INCLUDES_CACHE[provider]
      ? Math.max(0, promptTotal - (cacheReadTokens ?? 0) - (cacheCreationTokens ?? 0))
      : promptTotal;
  }

  const reasoningTokens = tokenCount(outputDetails.reasoningTokens);
  let outputTokens = tokenCount(usage.outputTokens);
  if (outputTokens === null) {
    // Some compatible servers report only the parts; the total is then text + reasoning.
    outputTokens = sumKnown([tokenCount(outputDetails.textTokens), reasoningTokens]);
  }

  const totalTokens =
    tokenCount(usage.totalTokens) ?? sumKnown([inputTokens, cacheReadTokens, cacheCreationTokens, outputTokens]);

  return { inputTokens, outputTokens, reasoningTokens, cacheReadTokens, cacheCreationTokens, totalTokens };
}
