/**
 * Prompt assembly: row selection and visibility, part conversion, extra system blocks, the
 * conversation start and Anthropic cache control.
 */
import type { ModelMessage } from "ai";
import { describe, expect, it } from "vitest";
import {
  extraSystemMessages,
  MISSING_START_TEXT,
  selectPromptRows,
  type PromptMessageRow,
} from "../../src/chatd/prompt/assemble.js";
import { assemble, call, errorResult, result, rows, shape, text } from "../helpers/prompt.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";
import type { ProviderName } from "../../src/sdk/schemas/llm.js";

describe("row selection and visibility", () => {
  it.each<[string, PromptMessageRow[], Array<[string, string]>]>([
    [
      "drops deleted rows",
      rows(["system", [text("sys")]], ["user", [text("old")], { deleted: true }], ["user", [text("hi")]]),
      [["system", "sys"], ["user", "text:hi"]],
    ],
    [
      "drops user-only rows, keeps model-only and both",
      rows(["user", [text("ui only")], { visibility: "user" }], ["user", [text("model only")], { visibility: "model" }], ["user", [text("both")]]),
      [["user", "text:model only"], ["user", "text:both"]],
    ],
    [
      "never sends the compressed chat_summarized call and result",
      rows(
        ["user", [text("S")], { compressed: true, visibility: "model" }],
        ["assistant", [call("sum", "chat_summarized", { source: "automatic" })], { compressed: true, visibility: "user" }],
        ["tool", [result("sum", { summary: "S" }, "chat_summarized")], { compressed: true, visibility: "both" }],
        ["user", [text("next")]],
      ),
      [["user", "text:S"], ["user", "text:next"]],
    ],
  ])("%s", (_name, input, expected) => {
    expect(shape(assemble(input))).toEqual(expected);
  });

  it("with two summaries sends the system rows, only the latest summary and what follows it", () => {
    const input = rows(
      ["system", [text("system prompt")], { visibility: "model" }],
      ["system", [text("workspace note")], { visibility: "model" }],
      ["user", [text("first task")]],
      ["assistant", [text("first answer")]],
      ["user", [text("summary one")], { compressed: true, visibility: "model" }],
      ["user", [text("second task")]],
      ["assistant", [text("second answer")]],
      ["user", [text("summary two")], { compressed: true, visibility: "model" }],
      ["assistant", [text("continuing")]],
      ["user", [text("third task")]],
    );
    expect(shape(assemble(input))).toEqual([
      ["system", "system prompt"],
      ["system", "workspace note"],
      ["user", "text:summary two"],
      ["assistant", "text:continuing"],
      ["user", "text:third task"],
    ]);
    const selected = selectPromptRows(input);
    expect(selected.summary?.id).toBe(8);
    expect(selected.conversation.map((row) => row.id)).toEqual([9, 10]);
  });

  it("orders by id, not input order, and hoists a later system row into the system block", () => {
    const input = rows(["user", [text("b")], { id: 5 }], ["system", [text("late system")], { id: 7 }], ["user", [text("a")], { id: 2 }], ["system", [text("sys")], { id: 1 }]);
    expect(shape(assemble(input))).toEqual([
      ["system", "sys"],
      ["system", "late system"],
      ["user", "text:a"],
      ["user", "text:b"],
    ]);
  });

  it("sends a summary stored with another role as a user message", () => {
    const input = rows(["system", [text("legacy summary")], { compressed: true, visibility: "model" }], ["assistant", [text("go on")]]);
    expect(shape(assemble(input))).toEqual([["user", "text:legacy summary"], ["assistant", "text:go on"]]);
  });
});

describe("part conversion", () => {
  it.each<[string, ChatMessagePart, unknown]>([
    ["text", text("hello"), [{ type: "text", text: "hello" }]],
    ["blank text is dropped", text("  \n"), []],
    ["sources are dropped", { type: "source", source_id: "s", url: "https://example.com" }, []],
    [
      "reasoning keeps provider metadata as provider options",
      { type: "reasoning", text: "think", provider_metadata: { anthropic: { signature: "sig" }, bogus: "not an object" } },
      [{ type: "reasoning", text: "think", providerOptions: { anthropic: { signature: "sig" } } }],
    ],
    ["blank reasoning is dropped", { type: "reasoning", text: " " }, []],
    [
      "blank reasoning with provider data (redacted thinking) is kept",
      { type: "reasoning", text: "", provider_metadata: { anthropic: { redactedData: "xyz" } } },
      [{ type: "reasoning", text: "", providerOptions: { anthropic: { redactedData: "xyz" } } }],
    ],
    [
      "a tool call's string args are parsed",
      call("c1", "read_file", '{"path":"a.ts"}'),
      [{ type: "tool-call", toolCallId: "c1", toolName: "read_file", input: { path: "a.ts" } }],
    ],
    ["malformed args become {}", call("c1", "read_file", "{nope"), [{ type: "tool-call", toolCallId: "c1", toolName: "read_file", input: {} }]],
    ["missing args become {}", { type: "tool-call", tool_call_id: "c1", tool_name: "x" }, [{ type: "tool-call", toolCallId: "c1", toolName: "x", input: {} }]],
  ])("assistant: %s", (_name, part, expected) => {
    const input = rows(["user", [text("q")]], ["assistant", [part, text("tail")]]);
    const assistant = assemble(input).find((message) => message.role === "assistant");
    const content = assistant && typeof assistant.content !== "string" ? assistant.content : [];
    expect(content.slice(0, -1)).toEqual(expected);
  });

  it.each<[string, ChatMessagePart, string]>([
    ["a range", { type: "file-reference", file_name: "src/a.ts", start_line: 3, end_line: 5, content: "x\ny" }, "[file-reference] src/a.ts:3-5\n```\nx\ny\n```"],
    ["a single line", { type: "file-reference", file_name: "a.go", start_line: 7, end_line: 7, content: "z" }, "[file-reference] a.go:7\n```\nz\n```"],
    ["no lines and no content", { type: "file-reference", file_name: "README.md" }, "[file-reference] README.md"],
    ["content with a fence", { type: "file-reference", file_name: "doc.md", start_line: 1, content: "```js\nx\n```\n" }, "[file-reference] doc.md:1\n````\n```js\nx\n```\n````"],
  ])("renders a file reference with %s as text", (_name, part, expected) => {
    expect(assemble(rows(["user", [part]]))).toEqual([{ role: "user", content: [{ type: "text", text: expected }] }]);
  });

  it("resolves file parts through the resolver: images, other files, inline data; drops the rest", () => {
    const png = new Uint8Array([137, 80, 78, 71]);
    const pdf = new Uint8Array([37, 80, 68, 70]);
    const files: Record<string, { mediaType: string; data: Uint8Array }> = { img: { mediaType: "image/png", data: png }, doc: { mediaType: "application/pdf", data: pdf } };
    const input = rows(
      [
        "user",
        [
          text("look"),
          { type: "file", file_id: "img", media_type: "image/png" },
          { type: "file", file_id: "doc", file_name: "spec.pdf" },
          { type: "file", file_id: "gone", media_type: "image/png" },
          { type: "file", media_type: "image/jpeg", data: "/9j/" },
          { type: "file", url: "https://example.com/x.png", media_type: "image/png" },
        ],
      ],
      ["assistant", [{ type: "file", file_id: "doc" }, text("done")]],
    );
    const messages = assemble(input, { provider: "openai", resolveFile: (id) => files[id] });
    expect(messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image", image: png, mediaType: "image/png" },
          { type: "file", data: pdf, mediaType: "application/pdf", filename: "spec.pdf" },
          { type: "image", image: "/9j/", mediaType: "image/jpeg" },
        ],
      },
      { role: "assistant", content: [{ type: "file", data: pdf, mediaType: "application/pdf" }, { type: "text", text: "done" }] },
    ]);
  });

  it("drops a user message whose only file is unresolvable", () => {
    expect(assemble(rows(["user", [{ type: "file", file_id: "gone" }]]), { provider: "openai", resolveFile: () => undefined })).toEqual([]);
  });

  it.each<[string, ChatMessagePart, unknown]>([
    ["JSON result", result("c1", { output: "hi", exit_code: 0 }), { type: "json", value: { output: "hi", exit_code: 0 } }],
    ["string result", result("c1", "plain"), { type: "json", value: "plain" }],
    ["missing result", { type: "tool-result", tool_call_id: "c1", tool_name: "execute" }, { type: "json", value: null }],
    ["error result", errorResult("c1", "boom"), { type: "error-text", value: "boom" }],
    ["error without message", { type: "tool-result", tool_call_id: "c1", is_error: true, result: { code: 7 } }, { type: "error-json", value: { code: 7 } }],
    [
      "image result",
      result("c1", { data: "iVBOR", mime_type: "image/png", text: "screenshot" }),
      { type: "content", value: [{ type: "text", text: "screenshot" }, { type: "image-data", data: "iVBOR", mediaType: "image/png" }] },
    ],
  ])("tool result output: %s", (_name, part, expected) => {
    const messages = assemble(rows(["user", [text("q")]], ["assistant", [call("c1")]], ["tool", [part]]));
    expect(messages.at(-1)).toEqual({ role: "tool", content: [{ type: "tool-result", toolCallId: "c1", toolName: "execute", output: expected }] });
  });
});

describe("extra system messages", () => {
  it("come after every stored system message, in order, wrapped, blank ones left out", () => {
    const messages = assemble(rows(["system", [text("base")]], ["system", [text("workspace attached")]], ["user", [text("hi")]]), {
      provider: "openai",
      extraSystem: { subagent: "You are running as a delegated sub-agent chat.", workspaceContext: "Operating System: linux", userInstructions: "Be terse." },
    });
    expect(shape(messages)).toEqual([
      ["system", "base"],
      ["system", "workspace attached"],
      ["system", "You are running as a delegated sub-agent chat."],
      ["system", "<workspace-context>\nOperating System: linux\n</workspace-context>"],
      ["system", "<user-instructions>\nBe terse.\n</user-instructions>"],
      ["user", "text:hi"],
    ]);
  });

  it.each<[string, Parameters<typeof extraSystemMessages>[0], string[]]>([
    ["none", undefined, []],
    ["blank values", { subagent: " ", workspaceContext: "", userInstructions: "\n" }, []],
    ["only user instructions", { userInstructions: "  Use tabs. " }, ["<user-instructions>\nUse tabs.\n</user-instructions>"]],
  ])("with %s", (_name, extra, expected) => {
    expect(extraSystemMessages(extra).map((message) => message.content)).toEqual(expected);
  });
});

describe("conversation start", () => {
  it.each<[string, PromptMessageRow[], string | undefined]>([
    ["starts with the user message", rows(["system", [text("s")]], ["user", [text("hi")]], ["assistant", [text("yo")]]), "text:hi"],
    ["starts with the summary", rows(["user", [text("summary")], { compressed: true, visibility: "model" }], ["assistant", [text("working")]]), "text:summary"],
    ["gets a user message when it opens with the assistant", rows(["system", [text("s")]], ["assistant", [text("orphaned answer")]]), `text:${MISSING_START_TEXT}`],
    ["gets a user message when it opens with a tool result", rows(["tool", [result("t1")]]), `text:${MISSING_START_TEXT}`],
    ["stays empty without conversation", rows(["system", [text("s")]]), undefined],
  ])("%s", (_name, input, first) => {
    const conversation = shape(assemble(input)).filter(([role]) => role !== "system");
    expect(conversation[0]).toEqual(first === undefined ? undefined : ["user", first]);
  });
});

describe("Anthropic cache control", () => {
  const cache = { anthropic: { cacheControl: { type: "ephemeral" } } };
  const history = rows(["system", [text("s1")]], ["system", [text("s2")]], ["user", [text("u1")]], ["assistant", [call("c1")]], ["tool", [result("c1")]], ["assistant", [text("a2")]], ["user", [text("u2")]]);
  const marked = (messages: ModelMessage[]): number[] => messages.flatMap((message, index) => (message.providerOptions ? [index] : []));

  it("marks the last system message and the last two messages", () => {
    const messages = assemble(history, { provider: "anthropic", extraSystem: { userInstructions: "be nice" } });
    expect(marked(messages)).toEqual([2, 6, 7]);
    expect(messages[2]).toEqual({ role: "system", content: "<user-instructions>\nbe nice\n</user-instructions>", providerOptions: cache });
    expect(messages[7]?.providerOptions).toEqual(cache);
    expect(shape(messages.slice(6))).toEqual([["assistant", "text:a2"], ["user", "text:u2"]]);
  });

  it("marks a single-message conversation once, and works without system messages", () => {
    expect(marked(assemble(rows(["user", [text("only")]]), { provider: "anthropic" }))).toEqual([0]);
  });

  it("keeps part-level provider options when marking a message", () => {
    const messages = assemble(rows(["user", [text("q")]], ["assistant", [{ type: "reasoning", text: "r", provider_metadata: { anthropic: { signature: "sig" } } }]]), { provider: "anthropic" });
    expect(messages[1]).toEqual({ role: "assistant", content: [{ type: "reasoning", text: "r", providerOptions: { anthropic: { signature: "sig" } } }], providerOptions: cache });
  });

  it.each<ProviderName>(["openai", "google", "openai-compat"])("adds nothing for %s", (provider) => {
    expect(marked(assemble(history, { provider }))).toEqual([]);
  });
});
