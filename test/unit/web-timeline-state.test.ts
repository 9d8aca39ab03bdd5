import { describe, expect, it } from "vitest";
import { applyStreamEvent, emptyTimeline, mergeMessages, replaceHistory, totalCostMicros, type TimelineState } from "../../web/src/chat/timeline-state.js";
import type { ChatMessageResponse, StreamEvent } from "../../src/sdk/schemas/index.js";

const CHAT = "00000000-0000-4000-8000-000000000001";

function message(id: number, role: ChatMessageResponse["role"], text: string, extra: Partial<ChatMessageResponse> = {}): ChatMessageResponse {
  return { id, chat_id: CHAT, created_by: null, model_config_id: null, created_at: new Date(id * 1000).toISOString(), role, content: [{ type: "text", text }], ...extra };
}
const part = (episode: string, seq: number, p: Extract<StreamEvent, { type: "message_part" }>["message_part"]["part"], role: "assistant" | "tool" = "assistant"): StreamEvent => ({
  type: "message_part",
  chat_id: CHAT,
  message_part: { role, part: p, episode, seq },
});
const apply = (state: TimelineState, ...events: StreamEvent[]) => events.reduce(applyStreamEvent, state);

describe("timeline state", () => {
  it("keeps durable messages in id order and replaces a message seen twice", () => {
    const merged = mergeMessages([message(3, "user", "c"), message(1, "user", "a")], [message(2, "assistant", "b"), message(3, "user", "c2")]);
    expect(merged.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(merged[2]?.content[0]?.text).toBe("c2");
  });

  it("appends text deltas of one episode into one block, and drops them when the step is persisted", () => {
    let state = apply(emptyTimeline, part("e1", 1, { type: "text", text: "Hel" }), part("e1", 2, { type: "text", text: "lo" }));
    expect(state.live.blocks).toEqual([{ kind: "text", text: "Hello" }]);
    state = apply(state, { type: "message", chat_id: CHAT, message: message(5, "assistant", "Hello") });
    expect(state.live.blocks).toEqual([]);
    expect(state.messages.map((m) => m.id)).toEqual([5]);
  });

  it("starts over when a part of another episode arrives (a retry or the next step)", () => {
    const state = apply(emptyTimeline, part("e1", 1, { type: "text", text: "old" }), part("e2", 1, { type: "text", text: "new" }));
    expect(state.live).toEqual({ episode: "e2", blocks: [{ kind: "text", text: "new" }] });
  });

  it("clears live parts on preview_reset and on a retry, and shows the retry", () => {
    let state = apply(emptyTimeline, part("e1", 1, { type: "text", text: "partial" }));
    state = apply(state, { type: "preview_reset", chat_id: CHAT, preview_reset: { episode: "e1" } });
    expect(state.live.blocks).toEqual([]);
    state = apply(state, part("e1", 2, { type: "text", text: "x" }), {
      type: "retry",
      chat_id: CHAT,
      retry: { attempt: 1, delay_ms: 4000, error: "overloaded", retrying_at: "2026-01-01T00:00:04Z" },
    });
    expect(state.live.blocks).toEqual([]);
    expect(state.retry).toMatchObject({ attempt: 1, delayMs: 4000, error: "overloaded" });
    state = apply(state, part("e2", 1, { type: "text", text: "y" }));
    expect(state.retry).toBeNull();
  });

  it("assembles a tool call from argument deltas, then its full arguments and result", () => {
    let state = apply(
      emptyTimeline,
      part("e1", 1, { type: "tool-call", tool_call_id: "c1", tool_name: "execute", args_delta: '{"comm' }),
      part("e1", 2, { type: "tool-call", tool_call_id: "c1", args_delta: 'and":"ls"}' }),
    );
    expect(state.live.blocks).toEqual([{ kind: "tool", toolCallId: "c1", toolName: "execute", argsText: '{"command":"ls"}' }]);
    state = apply(
      state,
      part("e1", 3, { type: "tool-call", tool_call_id: "c1", tool_name: "execute", args: { command: "ls" } }),
      part("e1", 4, { type: "tool-result", tool_call_id: "c1", tool_name: "execute", result: { output: "a" } }, "tool"),
    );
    expect(state.live.blocks).toHaveLength(1);
    expect(state.live.blocks[0]).toMatchObject({ kind: "tool", args: { command: "ls" }, result: { result: { output: "a" } } });
  });

  it("keeps reasoning and text as separate blocks in order", () => {
    const state = apply(
      emptyTimeline,
      part("e1", 1, { type: "reasoning", text: "think " }),
      part("e1", 2, { type: "reasoning", text: "more" }),
      part("e1", 3, { type: "text", text: "answer" }),
    );
    expect(state.live.blocks).toEqual([
      { kind: "reasoning", text: "think more" },
      { kind: "text", text: "answer" },
    ]);
  });

  it("counts a re-sent old message as a replay instead of adding it", () => {
    let state = replaceHistory(emptyTimeline, [message(1, "user", "a"), message(2, "assistant", "b")], []);
    state = apply(state, { type: "message", chat_id: CHAT, message: message(1, "user", "a") });
    expect(state.replays).toBe(1);
    expect(state.messages).toHaveLength(2);
    state = apply(state, { type: "message", chat_id: CHAT, message: message(9, "user", "edited") });
    expect(state.messages.map((m) => m.id)).toEqual([1, 2, 9]);
  });

  it("settled statuses end the live step; running clears the last error", () => {
    let state = apply(emptyTimeline, part("e1", 1, { type: "text", text: "x" }), { type: "error", chat_id: CHAT, error: { message: "boom" } });
    expect(state.error).toBe("boom");
    state = apply(state, { type: "status", chat_id: CHAT, status: { status: "error" } });
    expect(state.live.blocks).toEqual([]);
    expect(state.error).toBe("boom");
    state = apply(state, { type: "status", chat_id: CHAT, status: { status: "running" } });
    expect(state.error).toBeNull();
  });

  it("takes the queue as sent and sums priced steps", () => {
    const state = apply(emptyTimeline, {
      type: "queue_update",
      chat_id: CHAT,
      queued_messages: [{ id: 1, chat_id: CHAT, content: [{ type: "text", text: "next" }], created_at: new Date(0).toISOString() }],
    });
    expect(state.queue).toHaveLength(1);
    expect(totalCostMicros([message(1, "assistant", "a", { total_cost_micros: 1500 }), message(2, "assistant", "b"), message(3, "assistant", "c", { total_cost_micros: 500 })])).toBe(2000);
  });
});
