/**
 * Prompt assembly, tool side: call/result pairing, id sanitizing, and a long interleaved
 * history checked against the pairing invariants and the AI SDK's message schema.
 */
import { modelMessageSchema } from "ai";
import { describe, expect, it } from "vitest";
import { INTERRUPTED_TOOL_RESULT, type PromptMessageRow } from "../../src/chatd/prompt/assemble.js";
import { assemble, call, errorResult, result, rows, shape, text, type RowSpec } from "../helpers/prompt.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";

describe("tool call / result pairing", () => {
  it("answers interrupted calls with a synthetic error, in call order", () => {
    const messages = assemble(rows(["user", [text("go")]], ["assistant", [call("a"), call("b"), call("c")]], ["tool", [result("b")]], ["user", [text("next")]]));
    expect(shape(messages)).toEqual([
      ["user", "text:go"],
      ["assistant", "call:a|call:b|call:c"],
      ["tool", "result:a:error-text|result:b:json|result:c:error-text"],
      ["user", "text:next"],
    ]);
    const tool = messages[2];
    expect(tool?.role === "tool" && tool.content[0]).toEqual({ type: "tool-result", toolCallId: "a", toolName: "execute", output: { type: "error-text", value: INTERRUPTED_TOOL_RESULT } });
  });

  it("answers a trailing unanswered call (run interrupted at the end)", () => {
    expect(shape(assemble(rows(["user", [text("go")]], ["assistant", [text("on it"), call("x")]])))).toEqual([
      ["user", "text:go"],
      ["assistant", "text:on it|call:x"],
      ["tool", "result:x:error-text"],
    ]);
  });

  it("gives an orphan result a synthetic call with empty input, after the open turn's results", () => {
    const messages = assemble(rows(["user", [text("go")]], ["assistant", [call("a")]], ["tool", [result("zzz", { output: "?" }, "read_file")]], ["tool", [result("a")]]));
    expect(shape(messages)).toEqual([
      ["user", "text:go"],
      ["assistant", "call:a"],
      ["tool", "result:a:json"],
      ["assistant", "call:zzz"],
      ["tool", "result:zzz:json"],
    ]);
    expect(messages[3]).toEqual({ role: "assistant", content: [{ type: "tool-call", toolCallId: "zzz", toolName: "read_file", input: {} }] });
  });

  it("gives an orphan result after a user message a synthetic call too", () => {
    expect(shape(assemble(rows(["user", [text("go")]], ["tool", [result("o1")]], ["user", [text("again")]])))).toEqual([
      ["user", "text:go"],
      ["assistant", "call:o1"],
      ["tool", "result:o1:json"],
      ["user", "text:again"],
    ]);
  });

  it("keeps the first of duplicate results and drops a late result of an already answered call", () => {
    const messages = assemble(
      rows(
        ["user", [text("go")]],
        ["assistant", [call("a"), call("b")]],
        ["tool", [result("a", { n: 1 })]],
        ["tool", [result("a", { n: 2 })]],
        ["user", [text("interrupt")]],
        ["tool", [result("b", { late: true })]],
      ),
    );
    expect(shape(messages)).toEqual([
      ["user", "text:go"],
      ["assistant", "call:a|call:b"],
      ["tool", "result:a:json|result:b:error-text"],
      ["user", "text:interrupt"],
    ]);
    const tool = messages[2];
    expect(tool?.role === "tool" && tool.content[0]?.type === "tool-result" && tool.content[0].output).toEqual({ type: "json", value: { n: 1 } });
  });

  it("keeps the first of two calls with the same id", () => {
    expect(shape(assemble(rows(["user", [text("go")]], ["assistant", [call("a"), call("a")]], ["tool", [result("a")]])))).toEqual([
      ["user", "text:go"],
      ["assistant", "call:a"],
      ["tool", "result:a:json"],
    ]);
  });

  it("moves a local result stored inside the assistant row into the tool message", () => {
    expect(shape(assemble(rows(["user", [text("go")]], ["assistant", [result("a"), call("a")]])))).toEqual([
      ["user", "text:go"],
      ["assistant", "call:a"],
      ["tool", "result:a:json"],
    ]);
  });

  it("keeps provider-executed calls and results inside the assistant message", () => {
    const search: ChatMessagePart = { type: "tool-call", tool_call_id: "ws1", tool_name: "web_search", args: { query: "q" }, provider_executed: true };
    const found: ChatMessagePart = { type: "tool-result", tool_call_id: "ws1", tool_name: "web_search", result: [{ url: "https://a", title: "A" }], provider_executed: true };
    const orphanFound: ChatMessagePart = { ...found, tool_call_id: "ws-none" };
    const unanswered: ChatMessagePart = { ...search, tool_call_id: "ws2" };
    const messages = assemble(
      rows(["user", [text("search")]], ["assistant", [search, text("found it"), found, found, orphanFound, unanswered, call("loc")]], ["tool", [result("loc")]]),
    );
    expect(shape(messages)).toEqual([
      ["user", "text:search"],
      ["assistant", "call:ws1|result:ws1:json|text:found it|call:loc"],
      ["tool", "result:loc:json"],
    ]);
    const assistant = messages[1];
    expect(assistant?.role === "assistant" && typeof assistant.content !== "string" && assistant.content.slice(0, 2)).toEqual([
      { type: "tool-call", toolCallId: "ws1", toolName: "web_search", input: { query: "q" }, providerExecuted: true },
      { type: "tool-result", toolCallId: "ws1", toolName: "web_search", output: { type: "json", value: [{ url: "https://a", title: "A" }] } },
    ]);
  });

  it("moves a provider-executed result stored in a tool row next to its call; drops one without a call", () => {
    const search: ChatMessagePart = { type: "tool-call", tool_call_id: "ws1", tool_name: "web_search", args: {}, provider_executed: true };
    const found: ChatMessagePart = { type: "tool-result", tool_call_id: "ws1", tool_name: "web_search", result: [], provider_executed: true };
    expect(shape(assemble(rows(["user", [text("q")]], ["assistant", [search, text("t")]], ["tool", [found, { ...found, tool_call_id: "other" }]])))).toEqual([
      ["user", "text:q"],
      ["assistant", "call:ws1|result:ws1:json|text:t"],
    ]);
  });
});

describe("tool call id sanitizing", () => {
  it.each<[string, string, string]>([
    ["keeps allowed ids", "toolu_01AbC-9", "toolu_01AbC-9"],
    ["replaces dots, colons and slashes", "call.1:x/y", "call_1_x_y"],
    ["replaces an astral character with one underscore", "id😀", "id_"],
    ["never leaves an id empty", "", "call"],
  ])("%s", (_name, id, expected) => {
    const messages = assemble(rows(["user", [text("q")]], ["assistant", [call(id)]], ["tool", [result(id)]]));
    expect(shape(messages).slice(1)).toEqual([
      ["assistant", `call:${expected}`],
      ["tool", `result:${expected}:json`],
    ]);
  });

  it("keeps ids that sanitize alike distinct, each consistent with its result", () => {
    const messages = assemble(rows(["user", [text("q")]], ["assistant", [call("a.b"), call("a:b")]], ["tool", [result("a:b", { which: 2 })]], ["tool", [result("a.b", { which: 1 })]]));
    expect(shape(messages).slice(1)).toEqual([
      ["assistant", "call:a_b|call:a_b_2"],
      ["tool", "result:a_b:json|result:a_b_2:json"],
    ]);
    const tool = messages[2];
    const outputs = tool?.role === "tool" ? tool.content.map((part) => (part.type === "tool-result" ? part.output : undefined)) : [];
    expect(outputs).toEqual([{ type: "json", value: { which: 1 } }, { type: "json", value: { which: 2 } }]);
  });
});

/** A long, messy history: several turns, parallel calls, interruptions, orphans, a summary. */
function longHistory(): PromptMessageRow[] {
  const specs: RowSpec[] = [
    ["system", [text("You are a coding agent.")], { visibility: "model" }],
    ["user", [text("old work")]],
    ["assistant", [call("old")]],
    ["user", [text("Summary of old work.")], { compressed: true, visibility: "model" }],
    ["assistant", [call("sumcall", "chat_summarized")], { compressed: true, visibility: "user" }],
    ["tool", [result("sumcall", { summary: "x" }, "chat_summarized")], { compressed: true }],
  ];
  for (let turn = 0; turn < 12; turn++) {
    const a = `toolu.${turn}.a`;
    const b = `toolu.${turn}.b`;
    specs.push(["assistant", [{ type: "reasoning", text: `plan ${turn}`, provider_metadata: { anthropic: { signature: `sig${turn}` } } }, text(`step ${turn}`), call(a), call(b, "read_file", { path: `f${turn}.ts` })]]);
    if (turn % 3 !== 1) specs.push(["tool", [result(a)]]);
    if (turn % 4 !== 2) specs.push(["tool", [turn % 5 === 0 ? errorResult(b, "no such file") : result(b, { content: "…" }, "read_file")]]);
    if (turn % 6 === 3) specs.push(["tool", [result(`stray:${turn}`)]]);
    if (turn % 4 === 0) specs.push(["user", [text(`feedback ${turn}`)]]);
  }
  specs.push(["assistant", [text("Done."), call("final")]]);
  return rows(...specs);
}

describe("a long interleaved history", () => {
  it("pairs every local call with exactly one result in the tool message that follows it", () => {
    const messages = assemble(longHistory(), { provider: "anthropic" });
    for (const message of messages) expect(modelMessageSchema.safeParse(message).success).toBe(true);
    expect(messages[0]?.role).toBe("system");
    expect(messages[1]).toEqual({ role: "user", content: [{ type: "text", text: "Summary of old work." }] });

    const seen = new Set<string>();
    messages.forEach((message, index) => {
      if (message.role !== "assistant" || typeof message.content === "string") return;
      const calls = message.content.flatMap((part) => (part.type === "tool-call" && !part.providerExecuted ? [part.toolCallId] : []));
      if (calls.length === 0) return;
      const next = messages[index + 1];
      const answered = next?.role === "tool" ? next.content.flatMap((part) => (part.type === "tool-result" ? [part.toolCallId] : [])) : [];
      expect(answered.sort()).toEqual([...calls].sort());
      for (const id of calls) {
        expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    });
    // Every tool message answers the assistant message right before it.
    messages.forEach((message, index) => {
      if (message.role === "tool") expect(messages[index - 1]?.role).toBe("assistant");
    });
    expect(seen.has("old")).toBe(false);
    expect(seen.has("stray_3")).toBe(true);
    expect(seen.has("final")).toBe(true);
  });

  it("is deterministic and leaves its input untouched", () => {
    const input = longHistory();
    const before = structuredClone(input);
    expect(assemble(input)).toEqual(assemble(input));
    expect(input).toEqual(before);
  });
});
