/**
 * Which model calls fail, and how, in the provider-fault run: a seeded generator picks a share of
 * the calls (so a failure reproduces with the same seed) and the kinds take turns, so every kind
 * is injected even in a short run. Counts what it injected, and when each chat's calls arrived,
 * for the figures and the Retry-After check.
 */
import type { MockFault } from "../../src/llm/mock/index.js";

export const FAULT_KINDS = ["http-429", "http-500", "http-529", "reset", "truncate"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the 429s ask for: long enough to tell honoured from ignored, short enough for a test. */
export const RETRY_AFTER_SECONDS = 1;

/** mulberry32: tiny, seedable, good enough to spread faults; not for anything secret. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface CallRecord {
  chat: number;
  step: number;
  atMs: number;
  fault: FaultKind | undefined;
}

export class FaultPlan {
  readonly counts = new Map<FaultKind, number>(FAULT_KINDS.map((kind) => [kind, 0]));
  readonly calls: CallRecord[] = [];
  readonly #random: () => number;
  #next = 0;

  constructor(
    seed: number,
    private readonly rate: number,
  ) {
    this.#random = generator(seed);
  }

  get injected(): number {
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Decides the fate of one call of `chat` at `step`; undefined means it succeeds. */
  decide(chat: number, step: number): { kind: FaultKind; fault: MockFault } | undefined {
    const roll = this.#random();
    const kind = roll < this.rate ? FAULT_KINDS[this.#next++ % FAULT_KINDS.length] : undefined;
    this.calls.push({ chat, step, atMs: performance.now(), fault: kind });
    if (kind === undefined) return undefined;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    return { kind, fault: faultOf(kind, this.#random()) };
  }

  describe(): string {
    return FAULT_KINDS.map((kind) => `${kind} ${this.counts.get(kind) ?? 0}`).join(", ");
  }
}

/**
 * Anthropic frames: message_start, ping, then per block a start, its deltas and a stop, then
 * message_delta (the stop reason) and message_stop. A tool call of 3 argument chunks is complete
 * after frame 8; a text of a dozen words is cut mid-way there.
 */
const TRUNCATE_EARLY_AFTER = 4;
const TRUNCATE_LATE_AFTER = 8;

/**
 * The mock fault for a kind. Resets come after the first chunks (output has flowed); truncations
 * cut either early (a partial text, a tool call without its arguments) or late (a complete tool
 * call, or half a text, with no stop reason): the shapes a dropped connection leaves behind.
 */
function faultOf(kind: FaultKind, roll: number): MockFault {
  switch (kind) {
    case "http-429":
      return { type: "http", status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS };
    case "http-500":
      return { type: "http", status: 500 };
    case "http-529":
      return { type: "http", status: 529 };
    case "reset":
      return { type: "reset", afterChunks: 2 + Math.floor(roll * 3) };
    case "truncate":
      return { type: "truncate", afterChunks: roll < 0.5 ? TRUNCATE_EARLY_AFTER : TRUNCATE_LATE_AFTER };
  }
}
