import { describe, expect, it } from "vitest";
import { buildTimelineItems } from "../../web/src/chat/timeline-items.js";
import type { ChatMessageResponse } from "../../src/sdk/schemas/index.js";

const CHAT = "00000000-0000-4000-8000-000000000001";
const base = (id: number, role: ChatMessageResponse["role"], content: ChatMessageResponse["content"]): ChatMessageResponse => ({
  id,
  chat_id: CHAT,
  created_by: null,
  model_config_id: null,
  created_at: new Date(id * 1000).toISOString(),
  role,
  content,
});

describe("timeline items", () => {
  it("pairs tool calls with results from later tool messages and hides those tool messages", () => {
    const items = buildTimelineItems(
      [
        base(1, "user", [{ type: "text", text: "list files" }]),
        base(2, "assistant", [
          { type: "text", text: "Looking." },
          { type: "tool-call", tool_call_id: "c1", tool_name: "execute", args: { command: "ls" } },
        ]),
        base(3, "tool", [{ type: "tool-result", tool_call_id: "c1", tool_name: "execute", result: { output: "a\nb" } }]),
        base(4, "assistant", [{ type: "text", text: "Two files." }]),
      ],
      [],
    );
    expect(items.map((item) => item.kind)).toEqual(["user", "assistant", "assistant"]);
    const second = items[1];
    expect(second?.kind === "assistant" ? second.blocks[1] : undefined).toMatchObject({ kind: "tool", toolName: "execute", result: { result: { output: "a\nb" } } });
  });

  it("shows an orphan tool result, skips system messages and blank text, and appends the live row", () => {
    const items = buildTimelineItems(
      [
        base(1, "system", [{ type: "text", text: "prompt" }]),
        base(2, "assistant", [{ type: "text", text: "   " }]),
        base(3, "tool", [{ type: "tool-result", tool_call_id: "lost", tool_name: "read_file", result: { content: "x" } }]),
      ],
      [{ kind: "text", text: "streaming" }],
    );
    expect(items.map((item) => item.kind)).toEqual(["assistant", "live"]);
  });
});
