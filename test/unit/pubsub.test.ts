import { describe, expect, it } from "vitest";
import { MAX_CHANNEL_BYTES, MAX_PAYLOAD_BYTES, MemoryPubsub, type PubsubMessage } from "../../src/pubsub/index.js";
import { nextReconnectDelay, RECONNECT_INITIAL_DELAY_MS, RECONNECT_MAX_DELAY_MS } from "../../src/pubsub/postgres.js";
import { quoteIdentifier } from "../../src/pubsub/pubsub.js";
import { waitFor } from "../helpers/wait.js";

function payloads(messages: PubsubMessage[]): string[] {
  return messages.flatMap((message) => (message.type === "message" ? [message.payload] : []));
}

function collector(): { messages: PubsubMessage[]; handler: (message: PubsubMessage) => void } {
  const messages: PubsubMessage[] = [];
  return { messages, handler: (message) => messages.push(message) };
}

describe("MemoryPubsub", () => {
  it("delivers asynchronously, in publish order", async () => {
    const pubsub = new MemoryPubsub();
    const inbox = collector();
    await pubsub.subscribe("chat:stream:a", inbox.handler);
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const publishing = sent.map((payload) => pubsub.publish("chat:stream:a", payload));
    // Handlers never run inside publish(): the publisher's code cannot be reentered by them.
    expect(inbox.messages).toEqual([]);
    await Promise.all(publishing);
    await waitFor(() => inbox.messages.length === sent.length);
    expect(payloads(inbox.messages)).toEqual(sent);
    await pubsub.close();
  });

  it("keeps channels apart", async () => {
    const pubsub = new MemoryPubsub();
    const a = collector();
    const b = collector();
    await pubsub.subscribe("chat:owner:a", a.handler);
    await pubsub.subscribe("chat:owner:b", b.handler);
    await pubsub.publish("chat:owner:a", "for a");
    await pubsub.publish("chat:owner:b", "for b");
    await waitFor(() => a.messages.length === 1 && b.messages.length === 1);
    expect(payloads(a.messages)).toEqual(["for a"]);
    expect(payloads(b.messages)).toEqual(["for b"]);
    await pubsub.close();
  });

  it("stops delivering to an unsubscribed handler and keeps the others", async () => {
    const pubsub = new MemoryPubsub();
    const gone = collector();
    const stays = collector();
    const unsubscribe = await pubsub.subscribe("chat:stream:u", gone.handler);
    await pubsub.subscribe("chat:stream:u", stays.handler);
    await pubsub.publish("chat:stream:u", "1");
    await waitFor(() => gone.messages.length === 1 && stays.messages.length === 1);
    await unsubscribe();
    await unsubscribe(); // a second call is harmless
    await pubsub.publish("chat:stream:u", "2");
    // Both handlers would be queued by the same publish, so once one has it the other would too.
    await waitFor(() => stays.messages.length === 2);
    expect(payloads(gone.messages)).toEqual(["1"]);
    expect(payloads(stays.messages)).toEqual(["1", "2"]);
    await pubsub.close();
  });

  it("does not deliver what was queued before unsubscribe resolved", async () => {
    const pubsub = new MemoryPubsub();
    const inbox = collector();
    const unsubscribe = await pubsub.subscribe("chat:stream:q", inbox.handler);
    const publishing = pubsub.publish("chat:stream:q", "queued");
    const unsubscribing = unsubscribe();
    await Promise.all([publishing, unsubscribing]);
    const witness = collector();
    await pubsub.subscribe("chat:stream:q", witness.handler);
    await pubsub.publish("chat:stream:q", "later");
    await waitFor(() => witness.messages.length === 1);
    expect(inbox.messages).toEqual([]);
    await pubsub.close();
  });

  it("rejects payloads over the NOTIFY limit, counting bytes, not characters", async () => {
    const pubsub = new MemoryPubsub();
    const inbox = collector();
    await pubsub.subscribe("chat:stream:big", inbox.handler);
    expect(MAX_PAYLOAD_BYTES).toBe(7999);
    await expect(pubsub.publish("chat:stream:big", "x".repeat(8000))).rejects.toThrow(/8000 bytes/);
    await expect(pubsub.publish("chat:stream:big", "é".repeat(4000))).rejects.toThrow(/8000 bytes/);
    await expect(pubsub.publish("chat:stream:big", "a\0b")).rejects.toThrow(/NUL/);
    const largest = `${"é".repeat(3999)}x`;
    await pubsub.publish("chat:stream:big", largest);
    await waitFor(() => inbox.messages.length === 1);
    expect(payloads(inbox.messages)).toEqual([largest]);
    await pubsub.close();
  });

  it("rejects invalid channel names on publish and subscribe", async () => {
    const pubsub = new MemoryPubsub();
    const bad: Array<[string, RegExp]> = [
      ["", /empty/],
      ["a\0b", /NUL/],
      ["a".repeat(MAX_CHANNEL_BYTES + 1), /64 bytes/],
      ["é".repeat(32), /64 bytes/],
    ];
    for (const [channel, error] of bad) {
      await expect(pubsub.publish(channel, "x")).rejects.toThrow(error);
      await expect(pubsub.subscribe(channel, () => undefined)).rejects.toThrow(error);
    }
    const longest = "a".repeat(MAX_CHANNEL_BYTES);
    const inbox = collector();
    await pubsub.subscribe(longest, inbox.handler);
    await pubsub.publish(longest, "ok");
    await waitFor(() => inbox.messages.length === 1);
    await pubsub.close();
  });

  it("reports a throwing handler and still delivers to the others", async () => {
    const errors: Array<{ error: unknown; context: string }> = [];
    const pubsub = new MemoryPubsub({ onError: (error, context) => errors.push({ error, context }) });
    const inbox = collector();
    await pubsub.subscribe("chat:stream:t", () => {
      throw new Error("handler bug");
    });
    await pubsub.subscribe("chat:stream:t", async () => {
      throw new Error("async handler bug");
    });
    await pubsub.subscribe("chat:stream:t", inbox.handler);
    await pubsub.publish("chat:stream:t", "1");
    await pubsub.publish("chat:stream:t", "2");
    await waitFor(() => inbox.messages.length === 2 && errors.length === 4);
    expect(payloads(inbox.messages)).toEqual(["1", "2"]);
    expect(errors.map(({ error }) => (error instanceof Error ? error.message : String(error))).sort()).toEqual([
      "async handler bug",
      "async handler bug",
      "handler bug",
      "handler bug",
    ]);
    expect(errors.every(({ context }) => context.includes("chat:stream:t"))).toBe(true);
    await pubsub.close();
  });

  it("survives an error reporter that throws", async () => {
    const pubsub = new MemoryPubsub({
      onError: () => {
        throw new Error("reporter bug");
      },
    });
    const inbox = collector();
    await pubsub.subscribe("chat:stream:r", () => {
      throw new Error("handler bug");
    });
    await pubsub.subscribe("chat:stream:r", inbox.handler);
    await pubsub.publish("chat:stream:r", "1");
    await waitFor(() => inbox.messages.length === 1);
    await pubsub.close();
  });

  it("rejects publish and subscribe after close, and delivers nothing more", async () => {
    const pubsub = new MemoryPubsub();
    const inbox = collector();
    await pubsub.subscribe("chat:stream:c", inbox.handler);
    const publishing = pubsub.publish("chat:stream:c", "queued before close");
    await pubsub.close();
    await publishing;
    await expect(pubsub.publish("chat:stream:c", "x")).rejects.toThrow(/closed/);
    await expect(pubsub.subscribe("chat:stream:c", () => undefined)).rejects.toThrow(/closed/);
    // Delivery is one microtask away; a macrotask turn is well past it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(inbox.messages).toEqual([]);
  });
});

describe("pubsub helpers", () => {
  it("quotes channel names as identifiers", () => {
    expect(quoteIdentifier("chat:stream:AbC")).toBe('"chat:stream:AbC"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });

  it("backs off exponentially up to the cap", () => {
    const delays = [RECONNECT_INITIAL_DELAY_MS];
    while (delays.length < 10) delays.push(nextReconnectDelay(delays.at(-1) ?? 0));
    expect(delays.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 3200]);
    expect(delays.slice(6)).toEqual([RECONNECT_MAX_DELAY_MS, 5000, 5000, 5000]);
  });
});
