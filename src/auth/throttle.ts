/**
 * Slows down password guessing. Each key (an account identifier, a client address) may fail a few
 * times freely; after that every further attempt must wait a delay that doubles with each failure,
 * up to a cap. Failures are forgotten after a quiet window, and a successful login clears the
 * account's record (not the address's: one valid account must not unlock guessing on others).
 *
 * State is in memory and per replica: a distributed attacker gains at most a factor of the
 * replica count, and a restart forgets. The map is bounded so a flood of distinct keys cannot
 * exhaust memory (the oldest records go first).
 */

export interface ThrottlePolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this (since the last one) are forgotten. */
  forgetAfterMs: number;
}

/** An account: 5 free tries (typos), then 1 s, 2 s, 4 s … up to 15 minutes. */
export const ACCOUNT_THROTTLE: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 15 * 60_000,
};

/** An address: more headroom, since an office behind one NAT shares it. */
export const ADDRESS_THROTTLE: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 15 * 60_000,
};

/** Bound on tracked keys per throttle. */
const MAX_TRACKED_KEYS = 50_000;

interface FailureRecord {
  failures: number;
  lastFailureAt: number;
}

export class LoginThrottle {
  readonly #records = new Map<string, FailureRecord>();

  constructor(
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the caller must still wait before trying `key` again; 0 when it may try now. */
  retryAfterMs(key: string): number {
    const record = this.#current(key);
    if (!record || record.failures < this.policy.freeFailures) return 0;
    const doublings = record.failures - this.policy.freeFailures;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(doublings, 30));
    return Math.max(0, record.lastFailureAt + delay - this.now());
  }

  recordFailure(key: string): void {
    const record = this.#current(key);
    this.#records.delete(key);
    this.#records.set(key, { failures: (record?.failures ?? 0) + 1, lastFailureAt: this.now() });
    if (this.#records.size > MAX_TRACKED_KEYS) {
      const oldest = this.#records.keys().next();
      if (!oldest.done) this.#records.delete(oldest.value);
    }
  }

  clear(key: string): void {
    this.#records.delete(key);
  }

  #current(key: string): FailureRecord | undefined {
    const record = this.#records.get(key);
    if (record && this.now() - record.lastFailureAt > this.policy.forgetAfterMs) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }
}
