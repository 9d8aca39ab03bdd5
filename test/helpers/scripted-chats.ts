/**
 * Stateless model scripts for many chats at once: the mock's fallback reads which chat a request
 * belongs to (a marker in its first user message) and how far it got (the tool results the
 * request carries), and answers with that chat's next step. Nothing is counted on the side, so a
 * step re-run after a crash, a retry or a request to another replica gets the same answer.
 *
 * Requests are read in the Anthropic Messages format, the provider these tests configure.
 */
import { z } from "zod";
import type { MockPart, MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";

const contentBlockSchema = z.looseObject({ type: z.string(), text: z.string().optional() });
const anthropicRequestSchema = z.looseObject({
  messages: z.array(z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(contentBlockSchema)]) })),
});

export interface Conversation {
  /** All user text, joined (chatd may add its own blocks around the user's words). */
  userText: string;
  /** Tool results the conversation carries: the number of steps the chat has completed. */
  toolResults: number;
}

export function readConversation(request: RecordedRequest): Conversation {
  const body = anthropicRequestSchema.parse(request.body);
  let userText = "";
  let toolResults = 0;
  for (const message of body.messages) {
    if (message.role !== "user") continue;
    if (typeof message.content === "string") {
      userText += `${message.content}\n`;
      continue;
    }
    for (const block of message.content) {
      if (block.type === "text") userText += `${block.text ?? ""}\n`;
      if (block.type === "tool_result") toolResults++;
    }
  }
  return { userText, toolResults };
}

/** The marker a scripted chat's first message carries, and how to find it again. */
export function chatMarker(prefix: string, index: number): string {
  return `${prefix} ${index}.`;
}

export function markerIndex(prefix: string, text: string): number | undefined {
  const match = new RegExp(`${prefix} (\\d+)\\.`).exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export type ScriptedStep = { tool: string; input: Record<string, unknown> } | { text: string };

let callCounter = 0;

/**
 * The turn for step `step` of a script: one tool call (a fresh id on every request, so a step
 * stored twice is visible as two calls), or the final text.
 */
export function scriptedTurn(steps: readonly ScriptedStep[], step: number, chunkDelayMs: number): MockTurn {
  const scripted = steps[Math.min(step, steps.length - 1)];
  const usage = { input: 20, output: 5 };
  if (scripted === undefined || "text" in scripted) {
    const parts: MockPart[] = [{ type: "text", text: scripted?.text ?? "done" }];
    return { parts, usage, chunkDelayMs };
  }
  callCounter += 1;
  const parts: MockPart[] = [{ type: "tool-call", id: `toolu_s${step}_${callCounter}`, name: scripted.tool, input: scripted.input }];
  return { parts, usage, chunkDelayMs };
}

/** Title requests are not streamed; they get a fixed title and never a fault. */
export function isTitleRequest(request: RecordedRequest): boolean {
  return !request.stream;
}

export const TITLE_TURN: MockTurn = { parts: [{ type: "text", text: "Scripted task" }] };
