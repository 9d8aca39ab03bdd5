import { describe, expect, it } from "vitest";
import { decodeNul, decodeParts, encodeNul, encodeParts, publicPart } from "../../src/chats/parts.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";

describe("NUL-safe part encoding", () => {
  it.each([
    ["plain", "hello"],
    ["a NUL", "a\u0000b"],
    ["the escape character", "x\uE000y"],
    ["an escaped-looking sequence", "\uE000\uE001"],
    ["everything", "\u0000\uE000\uE001\uE000\uE000\u0000"],
    ["a trailing escape", "end\uE000"],
  ])("round-trips %s and never stores NUL", (_name, text) => {
    const stored = encodeNul(text);
    expect(stored).not.toContain("\u0000");
    expect(decodeNul(stored)).toBe(text);
  });

  it("round-trips whole parts, keys and nested values included", () => {
    const parts: ChatMessagePart[] = [
      { type: "text", text: "bin\u0000ary" },
      { type: "tool-result", tool_call_id: "c1", tool_name: "execute", result: { output: "a\u0000b", "k\u0000": ["\uE000"] } },
    ];
    const stored = encodeParts(parts);
    expect(JSON.stringify(stored)).not.toContain("\\u0000");
    expect(decodeParts(JSON.parse(JSON.stringify(stored)))).toEqual(parts);
  });

  it("drops unreadable parts instead of failing the message", () => {
    expect(decodeParts([{ type: "text", text: "ok" }, { type: "nonsense" }, 7])).toEqual([{ type: "text", text: "ok" }]);
    expect(decodeParts(null)).toEqual([]);
  });

  it("strips internal fields from what clients see", () => {
    expect(publicPart({ type: "reasoning", text: "t", provider_metadata: { anthropic: { signature: "s" } } })).toEqual({ type: "reasoning", text: "t" });
    expect(publicPart({ type: "file", file_id: "f", data: "AAAA", media_type: "image/png" })).toEqual({ type: "file", file_id: "f", media_type: "image/png" });
  });
});
