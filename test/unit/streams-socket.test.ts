import { WSContext } from "hono/ws";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EventSocket, MAX_BUFFERED_BYTES, MAX_EVENTS_PER_FRAME } from "../../src/streams/socket.js";

function fakeSocket(bufferedAmount = 0) {
  const sent: string[] = [];
  const closes: Array<[number | undefined, string | undefined]> = [];
  const raw = { bufferedAmount };
  const ws = new WSContext({
    send: (data) => void sent.push(String(data)),
    close: (code, reason) => void closes.push([code, reason]),
    raw,
    readyState: 1,
  });
  return { ws, sent, closes, raw };
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe("event socket", () => {
  it("coalesces a tick's events into frames of at most 256, sending full frames at once", async () => {
    const { ws, sent } = fakeSocket();
    const socket = new EventSocket<number>(ws, { slowClosed: 0 });
    socket.push(1, 2, 3);
    expect(sent).toEqual([]);
    await nextTick();
    expect(sent).toHaveLength(1);
    sent.length = 0;
    socket.push(...Array.from({ length: MAX_EVENTS_PER_FRAME + 10 }, (_, i) => i));
    // A burst of a frame or more goes out at once, in frames of at most 256.
    const frameSchema = z.object({ type: z.string(), data: z.array(z.number()) });
    const frames = sent.map((text) => frameSchema.parse(JSON.parse(text)));
    expect(frames.map((f) => [f.type, f.data.length])).toEqual([
      ["data", MAX_EVENTS_PER_FRAME],
      ["data", 10],
    ]);
    socket.close();
  });

  it("cuts off a consumer whose socket is not draining, with an error frame, and counts it", () => {
    const { ws, sent, closes } = fakeSocket(MAX_BUFFERED_BYTES + 1);
    const stats = { slowClosed: 0 };
    const socket = new EventSocket<number>(ws, stats);
    socket.push(1);
    expect(socket.closed).toBe(true);
    expect(stats.slowClosed).toBe(1);
    expect(JSON.parse(sent.at(-1) ?? "{}")).toMatchObject({ type: "error" });
    expect(closes[0]?.[0]).toBe(1013);
    socket.push(2);
    expect(sent).toHaveLength(1);
  });

  it("does not cut off a fast burst from a consumer that keeps up", () => {
    const { ws, sent } = fakeSocket();
    const stats = { slowClosed: 0 };
    const socket = new EventSocket<number>(ws, stats);
    for (let i = 0; i < 20_000; i++) socket.push(i);
    expect(socket.closed).toBe(false);
    expect(stats.slowClosed).toBe(0);
    expect(sent.length).toBeGreaterThanOrEqual(Math.floor(20_000 / MAX_EVENTS_PER_FRAME));
    socket.close();
  });

  it("sends watch events one per frame", async () => {
    const { ws, sent } = fakeSocket();
    const socket = new EventSocket<string>(ws, { slowClosed: 0 }, "single");
    socket.push("a", "b");
    await nextTick();
    expect(sent.map((text) => JSON.parse(text))).toEqual([
      { type: "data", data: "a" },
      { type: "data", data: "b" },
    ]);
    socket.close();
  });
});
