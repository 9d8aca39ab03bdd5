import { describe, expect, it } from "vitest";
import { MemoryPubsub } from "../../src/pubsub/memory.js";
import { channelWaiter } from "../../src/pubsub/waiter.js";

describe("channelWaiter", () => {
  it("returns at once for a hint that arrived while the caller was busy, then waits again", async () => {
    const pubsub = new MemoryPubsub();
    const waiter = await channelWaiter(pubsub, "workspace:w");
    await pubsub.publish("workspace:w", "{}");
    const started = performance.now();
    await waiter.wait(10_000);
    expect(performance.now() - started).toBeLessThan(1_000);
    // The remembered hint is used up: the next wait runs to its timeout.
    const again = performance.now();
    await waiter.wait(30);
    expect(performance.now() - again).toBeGreaterThanOrEqual(25);
    await waiter.close();
    await pubsub.close();
  });

  it("wakes on a hint during the wait, and on abort", async () => {
    const pubsub = new MemoryPubsub();
    const waiter = await channelWaiter(pubsub, "c");
    const woken = waiter.wait(10_000);
    await pubsub.publish("c", "{}");
    await woken;
    const controller = new AbortController();
    const aborted = waiter.wait(10_000, controller.signal);
    controller.abort();
    await aborted;
    await waiter.close();
    await pubsub.close();
  });
});
