import { describe, expect, it } from "vitest";
import { ChatEventHub, PART_BUFFER_CAP, type ChatStreamEvent } from "../../src/chatd/events.js";

const text = (t: string) => ({ type: "text" as const, text: t });

describe("chat event hub", () => {
  it("numbers parts within an episode and starts over, with a preview reset, on a new episode", () => {
    const hub = new ChatEventHub();
    const seen: ChatStreamEvent[] = [];
    hub.subscribeChat("c", (event) => seen.push(event));
    hub.startBuffering("c");
    const first = hub.beginEpisode("c");
    hub.publishPart("c", "assistant", text("a"));
    hub.publishPart("c", "assistant", text("b"));
    const second = hub.beginEpisode("c");
    hub.publishPart("c", "assistant", text("c"));
    expect(first).not.toBe(second);
    expect(seen.map((e) => (e.type === "message_part" ? `${e.message_part.episode === first ? 1 : 2}:${e.message_part.seq}` : e.type))).toEqual([
      "preview_reset",
      "1:1",
      "1:2",
      "preview_reset",
      "2:1",
    ]);
    expect(hub.bufferedParts("c")).toHaveLength(1);
    expect(hub.currentEpisode("c")).toEqual({ id: second, seq: 1 });
  });

  it("buffers only while the chat runs here, caps the buffer, and counts what it dropped", () => {
    const hub = new ChatEventHub();
    hub.publishPart("idle", "assistant", text("x"));
    expect(hub.bufferedParts("idle")).toEqual([]);
    hub.startBuffering("c");
    for (let i = 0; i < PART_BUFFER_CAP + 5; i++) hub.publishPart("c", "assistant", text(String(i)));
    const buffered = hub.bufferedParts("c");
    expect(buffered).toHaveLength(PART_BUFFER_CAP);
    expect(hub.droppedParts).toBe(5);
    const first = buffered[0];
    expect(first?.type === "message_part" ? first.message_part.seq : 0).toBe(6);
    hub.stopBuffering("c");
    expect(hub.isBuffering("c")).toBe(false);
  });

  it("isolates listeners: one that throws does not stop the others", () => {
    const hub = new ChatEventHub();
    const seen: string[] = [];
    hub.subscribeChat("c", () => {
      throw new Error("broken viewer");
    });
    const unsubscribe = hub.subscribeChat("c", (event) => seen.push(event.type));
    hub.publishPart("c", "assistant", text("a"));
    unsubscribe();
    hub.publishPart("c", "assistant", text("b"));
    expect(seen).toEqual(["message_part"]);
  });
});
