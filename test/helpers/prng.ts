/**
 * A small seeded pseudo-random generator (mulberry32), so a fuzz run that finds something can be
 * replayed exactly from the seed it printed. Not for anything security related.
 */

export interface Prng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** A random (version 4 shaped) UUID drawn from this generator, not from the crypto source. */
  uuid(): string;
}

/** 2^32: mulberry32 works on 32-bit unsigned state. */
const UINT32_RANGE = 0x1_0000_0000;

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / UINT32_RANGE;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const hex = (length: number): string => Array.from({ length }, () => int(0, 15).toString(16)).join("");
  return {
    seed: seed >>> 0,
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
    shuffle: <T>(items: readonly T[]): T[] => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(0, i);
        const a = copy[i];
        const b = copy[j];
        if (a === undefined || b === undefined) continue;
        copy[i] = b;
        copy[j] = a;
      }
      return copy;
    },
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${["8", "9", "a", "b"][int(0, 3)]}${hex(3)}-${hex(12)}`,
  };
}

/** The seed from CHATD_FUZZ_SEED (to replay a run), else a fresh one. */
export function seedFromEnv(env: Record<string, string | undefined> = process.env): number {
  const given = env.CHATD_FUZZ_SEED;
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CHATD_FUZZ_SEED must be a non-negative integer, not ${given}`);
    return seed >>> 0;
  }
  return Math.floor(Math.random() * UINT32_RANGE);
}
