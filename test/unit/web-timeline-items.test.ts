import { describe, expect, it } from "vitest";
import { buildTimelineItems, MARKDOWN_BLOCKS_PER_ROW, splitIntoRows } from "../../web/src/chat/timeline-items.js";
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

describe("long answers in several rows", () => {
  const paragraphs = (count: number) => Array.from({ length: count }, (_, i) => `Paragraph ${i}.`).join("\n\n");

  it("keeps a short message in one row under its own key", () => {
    const rows = splitIntoRows("m1", [{ kind: "text", text: paragraphs(3) }]);
    expect(rows).toEqual([{ key: "m1", blocks: [{ kind: "text", text: paragraphs(3) }] }]);
  });

  it("splits text at block boundaries with stable keys, and loses no text", () => {
    const text = paragraphs(MARKDOWN_BLOCKS_PER_ROW * 2 + 3);
    const rows = splitIntoRows("live", [{ kind: "text", text }]);
    expect(rows.map((row) => row.key)).toEqual(["live", "live/1", "live/2"]);
    const joined = rows.flatMap((row) => row.blocks.map((block) => (block.kind === "text" ? block.text : ""))).join("\n\n");
    expect(joined).toBe(text);
    // A longer stream only adds rows after the existing ones.
    const longer = splitIntoRows("live", [{ kind: "text", text: text + "\n\nMore." }]);
    expect(longer.slice(0, 2)).toEqual(rows.slice(0, 2));
  });

  it("never splits inside a code fence, and counts a tool card as one block", () => {
    const fence = "```\n" + paragraphs(MARKDOWN_BLOCKS_PER_ROW + 2) + "\n```";
    const rows = splitIntoRows("m2", [
      { kind: "tool", toolCallId: "t1", toolName: "execute", argsText: "{}" },
      { kind: "text", text: fence },
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.blocks).toHaveLength(2);
  });

  it("gives continuation rows of a stored message their own keys", () => {
    const items = buildTimelineItems([base(7, "assistant", [{ type: "text", text: paragraphs(MARKDOWN_BLOCKS_PER_ROW + 1) }])], []);
    expect(items.map((item) => [item.key, "continued" in item ? item.continued : undefined])).toEqual([["m7", undefined], ["m7/1", true]]);
  });
});
