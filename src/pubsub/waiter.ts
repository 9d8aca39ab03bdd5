/**
 * Waiting for a state change announced on a channel: subscribe once, then loop "read the
 * database; if not done, wait". A hint that arrives while the caller is reading is remembered, so
 * the next wait returns at once instead of missing it; a timeout re-check covers hints lost with
 * a dropped listener.
 */
import type { Pubsub } from "./pubsub.js";

export interface ChannelWaiter {
  /**
   * Resolves when a hint arrived since the previous wait returned, after `timeoutMs`, or when
   * `signal` aborts (the caller checks it), whichever comes first.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export async function channelWaiter(pubsub: Pubsub, channel: string): Promise<ChannelWaiter> {
  let hinted = false;
  let wake: (() => void) | undefined;
  const unsubscribe = await pubsub.subscribe(channel, () => {
    hinted = true;
    wake?.();
  });
  return {
    wait: (timeoutMs, signal) =>
      new Promise<void>((resolve) => {
        if (hinted || signal?.aborted) {
          hinted = false;
          resolve();
          return;
        }
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = undefined;
          hinted = false;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        wake = done;
        signal?.addEventListener("abort", done, { once: true });
      }),
    close: unsubscribe,
  };
}
