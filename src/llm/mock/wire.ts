/**
 * What every wire format module provides to the server, plus the small helpers they share. A
 * format module is pure: it turns a resolved turn into SSE frames or a JSON body and never
 * touches sockets, so the server alone owns timing and faults.
 */
import { z } from "zod";
import type { ResolvedTurn } from "./script.js";

export type MockFormat = "openai-chat" | "openai-responses" | "anthropic" | "google";

/** Facts about one request, read from its path and body. */
export interface RequestInfo {
  model: string;
  stream: boolean;
  /** Chat Completions only sends usage in the stream when asked (`stream_options.include_usage`). */
  includeUsage: boolean;
  lastUserText: string | undefined;
}

export interface RenderContext {
  model: string;
  /** Unix seconds, as the providers report creation times. */
  created: number;
  /** Unique per mock server: `id("msg_")` gives `msg_mock_1`, `msg_mock_2`, ... */
  id: (prefix: string) => string;
  includeUsage: boolean;
}

export interface WireFormat {
  readonly format: MockFormat;
  /** Recognises the request path (without query); returns the model named in the path, if any. */
  match(pathname: string): { modelFromPath?: string; streamFromPath?: boolean } | undefined;
  describe(body: unknown, route: { modelFromPath?: string; streamFromPath?: boolean }): RequestInfo;
  /**
   * Why the real provider would refuse this body with a 400, for the mistakes clients make (a
   * system role inside Anthropic's `messages`), or undefined. Keeps tests from passing on a
   * request the real service would reject.
   */
  invalidRequest?(body: unknown): string | undefined;
  /** The SSE frames of a streamed answer; each frame is one "chunk" for fault counting. */
  streamFrames(turn: ResolvedTurn, ctx: RenderContext): string[];
  jsonBody(turn: ResolvedTurn, ctx: RenderContext): unknown;
  /** The body of an HTTP error response in this provider's shape. */
  errorBody(status: number, message: string): unknown;
  /** An error reported inside an already-started stream, in this provider's shape. */
  streamErrorFrame(status: number, message: string): string;
  /** Response headers real servers send that clients look at (request ids). */
  responseHeaders(requestId: string): Record<string, string>;
}

/** `data: ...` frame (OpenAI Chat Completions, Gemini). Gemini separates events with CRLF. */
export function sseData(data: unknown, lineEnd = "\n"): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}${lineEnd}${lineEnd}`;
}

/** `event: name` + `data: ...` frame (OpenAI Responses, Anthropic). */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const defaultErrorMessages: Record<number, string> = {
  400: "Invalid request (mock).",
  401: "Invalid API key (mock).",
  429: "Rate limit exceeded (mock). Please retry after a short wait.",
  500: "Internal server error (mock).",
  502: "Bad gateway (mock).",
  503: "Service unavailable (mock).",
  529: "Overloaded (mock).",
};

/**
 * Text of a message `content` in any of the formats: a plain string, or an array of parts whose
 * text parts carry a `text` string (type `text`, `input_text` or none, as Gemini parts have).
 */
export function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  const parts = z.array(z.unknown()).safeParse(content);
  if (!parts.success) return undefined;
  const texts = parts.data.flatMap((part) => {
    const parsed = textPartSchema.safeParse(part);
    return parsed.success && (parsed.data.type === undefined || textTypes.has(parsed.data.type)) ? [parsed.data.text] : [];
  });
  return texts.length > 0 ? texts.join("\n") : undefined;
}

const textTypes = new Set(["text", "input_text"]);
const textPartSchema = z.object({ type: z.string().optional(), text: z.string() });

/** The text of the last message with `role === userRole` that contains text. */
export function lastTextOfRole(
  messages: unknown,
  userRole: string,
  contentKey: "content" | "parts",
): string | undefined {
  const list = z.array(z.unknown()).safeParse(messages);
  if (!list.success) return undefined;
  for (let i = list.data.length - 1; i >= 0; i--) {
    const message = z.object({ role: z.string().optional() }).loose().safeParse(list.data[i]);
    if (!message.success || message.data.role !== userRole) continue;
    const text = contentText(message.data[contentKey]);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Reads `model` and `stream` from a JSON body the way OpenAI and Anthropic send them. */
export const modelAndStreamSchema = z
  .object({
    model: z.string().optional().catch(undefined),
    stream: z.boolean().optional().catch(undefined),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish().catch(undefined),
  })
  .catch({});
