/**
 * Exact non-negative decimals for prices and costs, as BigInt scaled integers.
 *
 * Invariants:
 * - No value ever passes through floating-point arithmetic. A JavaScript number is read through
 *   its shortest round-trip string (`String(n)`: 0.1 is "0.1", not 0.1000000000000000055…), and
 *   exponent forms ("1e-7", "2.5E+3") are shifted into plain digits exactly.
 * - The canonical text has no sign, no exponent, no leading zeros in the integer part (except a
 *   lone "0") and no trailing zeros in the fraction: equal values have equal text.
 * - Inputs are bounded (length, exponent, digits), so a hostile "1e999999999" cannot make us
 *   build a billion-digit BigInt.
 *
 * It lives with the wire schemas because the price schema (llm.ts) canonicalizes through it; the
 * cost arithmetic (llm/cost.ts) uses the rest.
 */

/** value = units / 10^scale, with units ≥ 0 and scale ≥ 0. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

export type DecimalResult = { ok: true; value: Decimal } | { ok: false; reason: string };

/**
 * Longest accepted decimal text. A price needs a handful of digits; this leaves ample room for
 * exponent forms and pasted precision while bounding the work done on untrusted input.
 */
const MAX_DECIMAL_TEXT_LENGTH = 100;

/**
 * Largest accepted |exponent| before shifting. Anything beyond cannot fit the digit limits below,
 * and checking it first keeps us from computing 10^huge.
 */
const MAX_EXPONENT = 1_000;

/**
 * Fraction digits kept. Real prices have at most ~6 decimals (USD per 1M tokens); 30 is far
 * beyond any meaningful precision and still a tiny BigInt.
 */
export const MAX_FRACTION_DIGITS = 30;

/**
 * Integer digits allowed: a price above 10^15 USD per million tokens is certainly a typo, and the
 * bound keeps every product of price and token count far inside what BigInt handles instantly.
 */
export const MAX_INTEGER_DIGITS = 15;

/** Optional sign, digits, optional fraction, optional exponent. No ".5", "5.", "+5", spaces. */
const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a non-negative decimal from a JSON number or a decimal string. Negative zero ("-0",
 * -0) is zero; any other negative value is rejected.
 */
export function parseDecimal(input: number | string): DecimalResult {
  let text: string;
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return { ok: false, reason: "must be a finite number" };
    text = String(input);
  } else {
    text = input;
  }
  if (text.length > MAX_DECIMAL_TEXT_LENGTH) {
    return { ok: false, reason: `must be at most ${MAX_DECIMAL_TEXT_LENGTH} characters` };
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) return { ok: false, reason: "must be a decimal number such as 3 or 0.25" };
  const [, sign = "", integerDigits = "0", fractionDigits = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) {
    return { ok: false, reason: "exponent is out of range" };
  }

  // mantissa × 10^(exponent − fraction length), then normalized to the smallest scale.
  let units = BigInt(integerDigits + fractionDigits);
  let scale = fractionDigits.length - exponent;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }

  if (units === 0n) return { ok: true, value: { units: 0n, scale: 0 } };
  if (sign === "-") return { ok: false, reason: "must not be negative" };
  if (scale > MAX_FRACTION_DIGITS) {
    return { ok: false, reason: `must have at most ${MAX_FRACTION_DIGITS} decimal places` };
  }
  const integerLength = (units / 10n ** BigInt(scale)).toString().length;
  if (integerLength > MAX_INTEGER_DIGITS) {
    return { ok: false, reason: `must have at most ${MAX_INTEGER_DIGITS} digits before the decimal point` };
  }
  return { ok: true, value: { units, scale } };
}

/** The canonical text of a decimal (see the header). */
export function formatDecimal(value: Decimal): string {
  if (value.scale === 0) return value.units.toString();
  const digits = value.units.toString().padStart(value.scale + 1, "0");
  const integerPart = digits.slice(0, digits.length - value.scale);
  const fractionPart = digits.slice(digits.length - value.scale).replace(/0+$/, "");
  return fractionPart.length > 0 ? `${integerPart}.${fractionPart}` : integerPart;
}

/** Parses and re-formats: the canonical text, or the reason the input is not acceptable. */
export function canonicalDecimal(input: number | string): { ok: true; text: string } | { ok: false; reason: string } {
  const parsed = parseDecimal(input);
  return parsed.ok ? { ok: true, text: formatDecimal(parsed.value) } : parsed;
}

/** The decimal as an integer count of 10^-scale units (scale must be ≥ the value's own). */
export function unitsAtScale(value: Decimal, scale: number): bigint {
  if (scale < value.scale) throw new RangeError("unitsAtScale: target scale is below the value's scale");
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** ⌈numerator / denominator⌉ for numerator ≥ 0 and denominator > 0. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new RangeError("ceilDiv: needs numerator ≥ 0 and denominator > 0");
  return (numerator + denominator - 1n) / denominator;
}
