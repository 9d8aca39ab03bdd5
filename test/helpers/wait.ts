/**
 * Waiting for an expected event with a deadline, instead of sleeping for a guessed time.
 */

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface WaitForOptions {
  /** Give up after this long. Default 5 s: generous for a local database, short for a hang. */
  timeoutMs?: number;
  /** How often the predicate is checked. Default 5 ms. */
  intervalMs?: number;
  /** Describes what was awaited, for the timeout error. */
  message?: string;
}

/**
 * Resolves as soon as `predicate` returns (or resolves to) true; rejects if it has not by the
 * deadline. An async predicate (e.g. a query) is awaited before the next check.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: timed out after ${timeoutMs} ms${options.message ? `: ${options.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
