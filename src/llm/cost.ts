/**
 * The cost of one assistant step in micro-dollars (behavior.md section 7), from a model config's
 * pricing (`options.cost`, whose schema `ModelCostConfig` is in sdk/schemas/llm.ts).
 *
 * Invariants:
 * - Prices are stored and returned as canonical decimal strings ("0.1", never a float's
 *   expansion); each must be ≥ 0. A JSON number is accepted on input and converted exactly.
 * - A price in USD per 1M tokens equals micro-USD per token, so a step costs
 *   input×input + output×output + cache_read×cache_read + cache_creation×cache_write, summed
 *   exactly (BigInt scaled integers, no floats anywhere) and then rounded up ONCE to a whole
 *   micro-dollar. Reasoning tokens are not added: output already includes them.
 * - "Unpriced" is null and distinct from a computed 0. Only storage maps 0 to NULL
 *   (`costForStorage`), as the message insert does for every numeric 0 (behavior.md section 1).
 */
import { ceilDiv, type Decimal, parseDecimal, unitsAtScale } from "../sdk/schemas/decimal.js";
import type { ModelCost, ModelCostInput } from "../sdk/schemas/llm.js";
import type { NormalizedUsage } from "./usage.js";

/** A price as it may appear in a `ModelCost` or in raw (not yet validated) input. */
type PriceValue = string | number | null | undefined;

/**
 * Reads one price. An unparseable or negative value counts as unset: stored configs were
 * validated on write, and a bad legacy value must not fail a chat step (the step is then
 * unpriced in that category, which the usage summary reports).
 */
function readPrice(value: PriceValue): Decimal | null {
  if (value === null || value === undefined) return null;
  const parsed = parseDecimal(value);
  return parsed.ok ? parsed.value : null;
}

/**
 * Reads a token count. Usage from `normalizeUsage` is always a non-negative integer or null;
 * anything else (negative, NaN) is treated as absent rather than allowed to subtract cost.
 */
function readTokens(value: number | null): Decimal | null {
  if (value === null || !Number.isFinite(value) || value < 0) return null;
  // An integer-valued double converts to BigInt exactly, however large; the price digit
  // limits of parseDecimal are for prices, not counts.
  if (Number.isInteger(value)) return { units: BigInt(value), scale: 0 };
  const parsed = parseDecimal(value);
  return parsed.ok ? parsed.value : null;
}

/**
 * Beyond 2^53−1 micro-dollars (about 9 billion USD for one step) a number can no longer hold the
 * exact integer. Such a cost can only come from a misconfigured price; it is clamped rather
 * than thrown, so persisting the step cannot fail.
 */
const MAX_COST_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The cost of one step in whole micro-dollars (rounded up), or null when it is unpriced: no cost
 * config; no price set; no usage reported; or usage only in categories that have no price.
 */
export function computeCostMicros(usage: NormalizedUsage, cost: ModelCost | ModelCostInput | undefined | null): number | null {
  if (!cost) return null;
  const prices = {
    input: readPrice(cost.input_price_per_million_tokens),
    output: readPrice(cost.output_price_per_million_tokens),
    cacheRead: readPrice(cost.cache_read_price_per_million_tokens),
    cacheWrite: readPrice(cost.cache_write_price_per_million_tokens),
  };
  if (!prices.input && !prices.output && !prices.cacheRead && !prices.cacheWrite) return null;

  const hasAnyUsage =
    usage.inputTokens !== null ||
    usage.outputTokens !== null ||
    usage.reasoningTokens !== null ||
    usage.cacheReadTokens !== null ||
    usage.cacheCreationTokens !== null;
  if (!hasAnyUsage) return null;

  const terms: Array<[Decimal, Decimal]> = [];
  const pair = (tokens: number | null, price: Decimal | null): void => {
    const count = readTokens(tokens);
    if (count && price) terms.push([count, price]);
  };
  pair(usage.inputTokens, prices.input);
  pair(usage.outputTokens, prices.output);
  pair(usage.cacheReadTokens, prices.cacheRead);
  pair(usage.cacheCreationTokens, prices.cacheWrite);
  if (terms.length === 0) return null;

  // Each product tokens×price is exact at scale (tokens.scale + price.scale); bring them all to
  // the largest such scale, add, and round up once.
  const scale = Math.max(...terms.map(([count, price]) => count.scale + price.scale));
  let total = 0n;
  for (const [count, price] of terms) {
    total += unitsAtScale({ units: count.units * price.units, scale: count.scale + price.scale }, scale);
  }
  const micros = ceilDiv(total, 10n ** BigInt(scale));
  return Number(micros > MAX_COST_MICROS ? MAX_COST_MICROS : micros);
}

/**
 * The value for `chat_messages.total_cost_micros`: a computed 0 is stored as NULL, like every
 * numeric 0 in the message insert (so a zero-cost step reads back as unpriced, as upstream).
 */
export function costForStorage(micros: number | null): number | null {
  return micros === 0 ? null : micros;
}
