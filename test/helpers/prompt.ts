/**
 * Builders for prompt assembly tests: stored rows in a line each, common parts, and a compact
 * [role, content] view of the assembled prompt.
 */
import type { ModelMessage } from "ai";
import { assemblePrompt, type AssembleOptions, type PromptMessageRow } from "../../src/chatd/prompt/assemble.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";

export type Role = PromptMessageRow["role"];
export type RowSpec = [Role, ChatMessagePart[], Partial<Omit<PromptMessageRow, "role" | "parts">>?];

/** Rows with ids 1..n in the given order (unless a spec sets its own id). */
export function rows(...specs: RowSpec[]): PromptMessageRow[] {
  return specs.map(([role, parts, extra], index) => ({
    id: index + 1,
    role,
    visibility: "both",
    compressed: false,
    deleted: false,
    parts,
    ...extra,
  }));
}

export const text = (value: string): ChatMessagePart => ({ type: "text", text: value });
export const call = (id: string, name = "execute", args: unknown = { command: "ls" }): ChatMessagePart => ({ type: "tool-call", tool_call_id: id, tool_name: name, args });
export const result = (id: string, value: unknown = { output: "ok" }, name = "execute"): ChatMessagePart => ({ type: "tool-result", tool_call_id: id, tool_name: name, result: value });
export const errorResult = (id: string, message: string): ChatMessagePart => ({ type: "tool-result", tool_call_id: id, tool_name: "execute", result: { error: message }, is_error: true });

export const OPENAI: AssembleOptions = { provider: "openai" };
export const assemble = (input: PromptMessageRow[], options: AssembleOptions = OPENAI): ModelMessage[] => assemblePrompt(input, options);

/** Messages as [role, short content] for compact expectations. */
export function shape(messages: ModelMessage[]): Array<[string, string]> {
  return messages.map((message) => {
    if (typeof message.content === "string") return [message.role, message.content];
    const described = message.content.map((part) => {
      switch (part.type) {
        case "text":
        case "reasoning":
          return `${part.type}:${part.text}`;
        case "tool-call":
          return `call:${part.toolCallId}`;
        case "tool-result":
          return `result:${part.toolCallId}:${part.output.type}`;
        default:
          return part.type;
      }
    });
    return [message.role, described.join("|")];
  });
}

