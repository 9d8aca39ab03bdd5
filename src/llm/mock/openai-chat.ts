/**
 * OpenAI Chat Completions (`POST .../chat/completions`), as read by `openai.chat()` and by
 * `@ai-sdk/openai-compatible`. Shapes follow the zod schemas in `@ai-sdk/openai`'s
 * `chat/openai-chat-api.ts` and `@ai-sdk/openai-compatible`'s chat model.
 *
 * Mapping of mock parts: reasoning streams as `reasoning_content` deltas (what DeepSeek-style
 * compatible servers send; `openai.chat()` ignores it, as the real OpenAI API never sends it),
 * web search becomes `url_citation` annotations (the search-preview models' only trace of a
 * search), and tool arguments are split over several `tool_calls` deltas.
 */
import type { ParsedPart, ResolvedTurn } from "./script.js";
import { citations, splitInto, textDeltas } from "./script.js";
import {
  lastTextOfRole,
  modelAndStreamSchema,
  sseData,
  type RenderContext,
  type WireFormat,
} from "./wire.js";

const finishReasons = { stop: "stop", "tool-calls": "tool_calls", length: "length" } as const;

function usageOf(turn: ResolvedTurn) {
  const { input, output, cacheRead, cacheWrite, reasoning } = turn.usage;
  // prompt_tokens counts cached tokens too; cached_tokens says how many of them were cached.
  const promptTokens = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: output,
    total_tokens: promptTokens + output,
    prompt_tokens_details: { cached_tokens: cacheRead, ...(cacheWrite > 0 ? { cache_write_tokens: cacheWrite } : {}) },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

function annotationsOf(parts: readonly ParsedPart[]) {
  return citations(parts).map((result) => ({
    type: "url_citation",
    url_citation: { start_index: 0, end_index: 0, url: result.url, title: result.title },
  }));
}

function streamFrames(turn: ResolvedTurn, ctx: RenderContext): string[] {
  const id = ctx.id("chatcmpl-");
  const chunk = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
    sseData({
      id,
      object: "chat.completion.chunk",
      created: ctx.created,
      model: ctx.model,
      system_fingerprint: "fp_mock",
      choices: choice === undefined ? [] : [{ index: 0, logprobs: null, finish_reason: null, ...choice }],
      ...extra,
    });
  const frames: string[] = [];
  // The first chunk only names the role; `content: ""` there would open an empty text part.
  frames.push(chunk({ delta: { role: "assistant", content: null, refusal: null } }));
  let toolIndex = 0;
  for (const part of turn.parts) {
    switch (part.type) {
      case "text":
        for (const piece of textDeltas(part.text)) frames.push(chunk({ delta: { content: piece } }));
        break;
      case "reasoning":
        for (const piece of textDeltas(part.text)) frames.push(chunk({ delta: { reasoning_content: piece } }));
        break;
      case "tool-call": {
        const index = toolIndex++;
        frames.push(
          chunk({
            delta: { tool_calls: [{ index, id: part.id, type: "function", function: { name: part.name, arguments: "" } }] },
          }),
        );
        for (const piece of splitInto(JSON.stringify(part.input), part.chunks)) {
          frames.push(chunk({ delta: { tool_calls: [{ index, function: { arguments: piece } }] } }));
        }
        break;
      }
      case "web-search":
        frames.push(chunk({ delta: { annotations: annotationsOf([part]) } }));
        break;
    }
  }
  frames.push(chunk({ delta: {}, finish_reason: finishReasons[turn.finishReason] }));
  if (ctx.includeUsage) frames.push(chunk(undefined, { usage: usageOf(turn) }));
  frames.push(sseData("[DONE]"));
  return frames;
}

function jsonBody(turn: ResolvedTurn, ctx: RenderContext): unknown {
  const text = turn.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("");
  const reasoning = turn.parts.flatMap((part) => (part.type === "reasoning" ? [part.text] : [])).join("");
  const toolCalls = turn.parts.flatMap((part) =>
    part.type === "tool-call"
      ? [{ id: part.id, type: "function", function: { name: part.name, arguments: JSON.stringify(part.input) } }]
      : [],
  );
  const annotations = annotationsOf(turn.parts);
  return {
    id: ctx.id("chatcmpl-"),
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    system_fingerprint: "fp_mock",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text.length > 0 ? text : null,
          refusal: null,
          ...(reasoning.length > 0 ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(annotations.length > 0 ? { annotations } : {}),
        },
        logprobs: null,
        finish_reason: finishReasons[turn.finishReason],
      },
    ],
    usage: usageOf(turn),
  };
}

const errorTypes: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  429: { type: "requests", code: "rate_limit_exceeded" },
  500: { type: "server_error", code: null },
  502: { type: "server_error", code: null },
  503: { type: "server_error", code: null },
  529: { type: "server_error", code: "overloaded" },
};

/** `{ error: { message, type, param, code } }`, OpenAI's error shape (also in streams). */
export function openaiErrorBody(status: number, message: string) {
  const { type, code } = errorTypes[status] ?? { type: "server_error", code: null };
  return { error: { message, type, param: null, code } };
}

export const openaiChat: WireFormat = {
  format: "openai-chat",
  match: (pathname) => (pathname.endsWith("/chat/completions") ? {} : undefined),
  describe(body) {
    const head = modelAndStreamSchema.parse(body);
    const messages = typeof body === "object" && body !== null && "messages" in body ? body.messages : undefined;
    return {
      model: head.model ?? "unknown",
      stream: head.stream === true,
      includeUsage: head.stream_options?.include_usage === true,
      lastUserText: lastTextOfRole(messages, "user", "content"),
    };
  },
  streamFrames,
  jsonBody,
  errorBody: openaiErrorBody,
  streamErrorFrame: (status, message) => sseData(openaiErrorBody(status, message)),
  responseHeaders: (requestId) => ({ "x-request-id": requestId, "openai-processing-ms": "1" }),
};
