import { describe, expect, it } from "vitest";
import { computeCostMicros, costForStorage } from "../../src/llm/cost.js";
import type { NormalizedUsage } from "../../src/llm/usage.js";
import { type ModelCost, type ModelCostInput, modelCostSchema } from "../../src/sdk/schemas/llm.js";
import { canonicalDecimal } from "../../src/sdk/schemas/decimal.js";

function tokens(partial: Partial<NormalizedUsage>): NormalizedUsage {
  return {
    inputTokens: null,
    outputTokens: null,
    reasoningTokens: null,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    totalTokens: null,
    ...partial,
  };
}

function prices(input?: string, output?: string, cacheRead?: string, cacheWrite?: string): ModelCost {
  return modelCostSchema.parse({
    input_price_per_million_tokens: input,
    output_price_per_million_tokens: output,
    cache_read_price_per_million_tokens: cacheRead,
    cache_write_price_per_million_tokens: cacheWrite,
  });
}

describe("computeCostMicros: behavior.md section 7 examples", () => {
  it.each([
    ["1 input token @0.01", tokens({ inputTokens: 1 }), prices("0.01"), 1],
    ["1,000 input @3", tokens({ inputTokens: 1_000 }), prices("3"), 3_000],
    ["500 output @15", tokens({ outputTokens: 500 }), prices(undefined, "15"), 7_500],
    ["10,000 cache read @0.3", tokens({ cacheReadTokens: 10_000 }), prices(undefined, undefined, "0.3"), 3_000],
    ["5,000 cache write @3.75", tokens({ cacheCreationTokens: 5_000 }), prices(undefined, undefined, undefined, "3.75"), 18_750],
    [
      "mixed 101/201/1,005/33 @1.23/4.56/0.7/7.89 (2004.66 → 2005)",
      tokens({ inputTokens: 101, outputTokens: 201, cacheReadTokens: 1_005, cacheCreationTokens: 33 }),
      prices("1.23", "4.56", "0.7", "7.89"),
      2_005,
    ],
  ])("%s", (_name, usage, cost, expected) => {
    expect(computeCostMicros(usage, cost)).toBe(expected);
  });
});

describe("computeCostMicros", () => {
  it("does not add reasoning tokens (output already includes them)", () => {
    expect(computeCostMicros(tokens({ outputTokens: 100, reasoningTokens: 60 }), prices(undefined, "1"))).toBe(100);
  });

  it("is unpriced (null) without a cost config, without prices, without usage, or without a matching price", () => {
    const usage = tokens({ inputTokens: 10, outputTokens: 10 });
    expect(computeCostMicros(usage, undefined)).toBeNull();
    expect(computeCostMicros(usage, null)).toBeNull();
    expect(computeCostMicros(usage, {})).toBeNull();
    expect(computeCostMicros(usage, modelCostSchema.parse({ input_price_per_million_tokens: null }))).toBeNull();
    expect(computeCostMicros(tokens({}), prices("3", "15"))).toBeNull();
    expect(computeCostMicros(tokens({ totalTokens: 500 }), prices("3", "15"))).toBeNull();
    expect(computeCostMicros(tokens({ outputTokens: 10 }), prices("3"))).toBeNull();
    expect(computeCostMicros(tokens({ reasoningTokens: 10 }), prices("3", "15"))).toBeNull();
  });

  it("gives 0 for zero usage with a price, stored as NULL", () => {
    const micros = computeCostMicros(tokens({ inputTokens: 0, outputTokens: 0 }), prices("3", "15"));
    expect(micros).toBe(0);
    expect(costForStorage(micros)).toBeNull();
    expect(costForStorage(null)).toBeNull();
    expect(costForStorage(7)).toBe(7);
  });

  it("a category without a price adds nothing while a priced one counts", () => {
    expect(computeCostMicros(tokens({ inputTokens: 1_000, outputTokens: 1_000 }), prices("3"))).toBe(3_000);
  });

  it("accepts prices as JSON numbers and as strings, with the same result", () => {
    const usage = tokens({ inputTokens: 101, outputTokens: 201, cacheReadTokens: 1_005, cacheCreationTokens: 33 });
    const asNumbers: ModelCostInput = {
      input_price_per_million_tokens: 1.23,
      output_price_per_million_tokens: 4.56,
      cache_read_price_per_million_tokens: 0.7,
      cache_write_price_per_million_tokens: 7.89,
    };
    expect(computeCostMicros(usage, asNumbers)).toBe(2_005);
    expect(computeCostMicros(usage, modelCostSchema.parse(asNumbers))).toBe(2_005);
  });

  it("never rounds through floating point", () => {
    // 0.07 × 100 is 7.000000000000001 in floats, which would ceil to 8.
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(computeCostMicros(tokens({ inputTokens: 100 }), { input_price_per_million_tokens: 0.07 })).toBe(7);
    // 0.1 + 0.2 style sums: 1 token at 0.1 and 2 at 0.1 are exactly 0.3 → 1.
    expect(computeCostMicros(tokens({ inputTokens: 1, outputTokens: 2 }), prices("0.1", "0.1"))).toBe(1);
  });

  it("stays exact for tiny prices and huge token counts", () => {
    expect(computeCostMicros(tokens({ inputTokens: 1 }), prices("0.000001"))).toBe(1);
    expect(computeCostMicros(tokens({ inputTokens: 1_000_000 }), prices("0.000001"))).toBe(1);
    expect(computeCostMicros(tokens({ inputTokens: 1_000_001 }), prices("0.000001"))).toBe(2);
    expect(computeCostMicros(tokens({ inputTokens: 10 ** 12 }), prices("0.000001"))).toBe(1_000_000);
    expect(computeCostMicros(tokens({ inputTokens: 10 ** 12 }), prices("3"))).toBe(3 * 10 ** 12);
    expect(
      computeCostMicros(tokens({ inputTokens: 10 ** 12, outputTokens: 10 ** 12 }), prices("0.3", "15.000001")),
    ).toBe(15_300_001_000_000);
    expect(computeCostMicros(tokens({ inputTokens: 999_999_999_999 }), prices("0.000000000000000001"))).toBe(1);
  });

  it("clamps an absurd cost at Number.MAX_SAFE_INTEGER instead of losing precision", () => {
    expect(computeCostMicros(tokens({ inputTokens: 10 ** 15 }), prices("999999999999999"))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("matches a straightforward BigInt reference over random inputs", () => {
    const SCALE = 30;
    const toUnits = (price: string): bigint => {
      const [whole = "0", fraction = ""] = price.split(".");
      return BigInt(whole + fraction.padEnd(SCALE, "0"));
    };
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const randomPrice = (): string | undefined => {
      if (random() < 0.2) return undefined;
      const whole = Math.floor(random() * 100);
      const digits = Math.floor(random() * 9);
      const fraction = Array.from({ length: digits }, () => Math.floor(random() * 10)).join("");
      return digits > 0 ? `${whole}.${fraction}` : String(whole);
    };
    const randomTokens = (): number | null => (random() < 0.2 ? null : Math.floor(random() * 10 ** (1 + Math.floor(random() * 10))));

    for (let i = 0; i < 2_000; i++) {
      const cost = [randomPrice(), randomPrice(), randomPrice(), randomPrice()] as const;
      const usage = tokens({
        inputTokens: randomTokens(),
        outputTokens: randomTokens(),
        cacheReadTokens: randomTokens(),
        cacheCreationTokens: randomTokens(),
      });
      const pairs: Array<[number | null, string | undefined]> = [
        [usage.inputTokens, cost[0]],
        [usage.outputTokens, cost[1]],
        [usage.cacheReadTokens, cost[2]],
        [usage.cacheCreationTokens, cost[3]],
      ];
      const priced = pairs.filter((pair): pair is [number, string] => pair[0] !== null && pair[1] !== undefined);
      let expected: number | null = null;
      if (priced.length > 0) {
        const sum = priced.reduce((total, [count, price]) => total + BigInt(count) * toUnits(price), 0n);
        const unit = 10n ** BigInt(SCALE);
        expected = Number((sum + unit - 1n) / unit);
      }
      expect(computeCostMicros(usage, prices(...cost))).toBe(expected);
    }
  });
});

describe("modelCostSchema", () => {
  it("stores prices as canonical decimal strings", () => {
    const parsed = modelCostSchema.parse({
      input_price_per_million_tokens: 0.1,
      output_price_per_million_tokens: "015.500",
      cache_read_price_per_million_tokens: 1e-7,
      cache_write_price_per_million_tokens: "2.5E+1",
    });
    expect(parsed).toEqual({
      input_price_per_million_tokens: "0.1",
      output_price_per_million_tokens: "15.5",
      cache_read_price_per_million_tokens: "0.0000001",
      cache_write_price_per_million_tokens: "25",
    });
    expect(JSON.stringify(modelCostSchema.parse({ input_price_per_million_tokens: 0.1 }))).toBe('{"input_price_per_million_tokens":"0.1"}');
  });

  it("accepts an empty object and null prices as unset", () => {
    expect(modelCostSchema.parse({})).toEqual({});
    expect(JSON.stringify(modelCostSchema.parse({ output_price_per_million_tokens: null }))).toBe("{}");
  });

  it("accepts zero and negative zero", () => {
    expect(modelCostSchema.parse({ input_price_per_million_tokens: 0 }).input_price_per_million_tokens).toBe("0");
    expect(modelCostSchema.parse({ input_price_per_million_tokens: "-0.00" }).input_price_per_million_tokens).toBe("0");
  });

  it("rejects a negative price with a message naming the field", () => {
    for (const value of [-1, "-0.5", "-1e-3"]) {
      const result = modelCostSchema.safeParse({ output_price_per_million_tokens: value });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe("price must not be negative");
      expect(result.error?.issues[0]?.path).toEqual(["output_price_per_million_tokens"]);
    }
  });

  it.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["text NaN", "NaN"],
    ["text Infinity", "Infinity"],
    ["empty", ""],
    ["words", "three"],
    ["leading dot", ".5"],
    ["trailing dot", "5."],
    ["plus sign", "+5"],
    ["spaces", " 5"],
    ["comma", "1,5"],
    ["hex", "0x10"],
    ["boolean", true],
    ["too many decimal places", 5e-324],
    ["too large", 1e21],
    ["huge exponent", "1e999999999"],
  ])("rejects %s", (_name, value) => {
    expect(modelCostSchema.safeParse({ input_price_per_million_tokens: value }).success).toBe(false);
  });
});

describe("canonicalDecimal", () => {
  it.each([
    [0.1, "0.1"],
    [0.30000000000000004, "0.30000000000000004"],
    [3, "3"],
    [1e-7, "0.0000001"],
    [1.5e-10, "0.00000000015"],
    ["1.2300", "1.23"],
    ["000", "0"],
    ["0.000001", "0.000001"],
    ["1E2", "100"],
    ["12.5e-1", "1.25"],
    [123456789012345, "123456789012345"],
  ])("%j → %s", (input, expected) => {
    expect(canonicalDecimal(input)).toEqual({ ok: true, text: expected });
  });
});
