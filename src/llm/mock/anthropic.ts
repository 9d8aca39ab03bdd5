/**
 * Anthropic Messages (`POST .../messages`). Shapes follow `anthropicMessagesChunkSchema`,
 * `anthropicMessagesResponseSchema` and `anthropicErrorDataSchema` in `@ai-sdk/anthropic`.
 *
 * Mapping of mock parts: reasoning is a `thinking` block closed by a `signature_delta` (a
 * signature is always sent, generated when the script has none, because the real API always
 * sends one and clients must echo it back); web search is a `server_tool_use` block named
 * `web_search` followed by a `web_search_tool_result` block. Usage follows Anthropic's
 * convention: `input_tokens` excludes cache reads and writes, which are reported separately.
 */
import { z } from "zod";
import type { ResolvedTurn } from "./script.js";
import { splitInto, textDeltas } from "./script.js";
import { lastTextOfRole, modelAndStreamSchema, sseEvent, type RenderContext, type WireFormat } from "./wire.js";

const stopReasons = { stop: "end_turn", "tool-calls": "tool_use", length: "max_tokens" } as const;

function usageOf(turn: ResolvedTurn, outputTokens: number) {
  const searches = turn.parts.filter((part) => part.type === "web-search").length;
  return {
    input_tokens: turn.usage.input,
    cache_creation_input_tokens: turn.usage.cacheWrite,
    cache_read_input_tokens: turn.usage.cacheRead,
    output_tokens: outputTokens,
    ...(turn.usage.reasoning > 0 ? { output_tokens_details: { thinking_tokens: turn.usage.reasoning } } : {}),
    ...(searches > 0 ? { server_tool_use: { web_search_requests: searches } } : {}),
  };
}

function searchResults(results: readonly { url: string; title: string }[]) {
  return results.map((result, i) => ({
    type: "web_search_result",
    url: result.url,
    title: result.title,
    // Opaque in the real API too: clients only pass it back.
    encrypted_content: Buffer.from(`mock-search-result-${i}:${result.url}`).toString("base64"),
    page_age: null,
  }));
}

/** Content blocks of the whole message, as the non-streaming response lists them. */
function contentBlocks(turn: ResolvedTurn, ctx: RenderContext, signatures: Map<number, string>) {
  return turn.parts.flatMap((part, i): Record<string, unknown>[] => {
    switch (part.type) {
      case "text":
        return [{ type: "text", text: part.text }];
      case "reasoning":
        return [{ type: "thinking", thinking: part.text, signature: signatures.get(i) ?? "" }];
      case "tool-call":
        return [{ type: "tool_use", id: part.id, name: part.name, input: part.input }];
      case "web-search": {
        const id = ctx.id("srvtoolu_");
        return [
          { type: "server_tool_use", id, name: "web_search", input: { query: part.query } },
          { type: "web_search_tool_result", tool_use_id: id, content: searchResults(part.results) },
        ];
      }
    }
  });
}

function signaturesOf(turn: ResolvedTurn, ctx: RenderContext): Map<number, string> {
  const signatures = new Map<number, string>();
  turn.parts.forEach((part, i) => {
    if (part.type === "reasoning") signatures.set(i, part.signature ?? ctx.id("mock-signature-"));
  });
  return signatures;
}

function streamFrames(turn: ResolvedTurn, ctx: RenderContext): string[] {
  const frames: string[] = [];
  const emit = (type: string, data: Record<string, unknown> = {}) => frames.push(sseEvent(type, { type, ...data }));
  const signatures = signaturesOf(turn, ctx);
  emit("message_start", {
    message: {
      id: ctx.id("msg_"),
      type: "message",
      role: "assistant",
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The real API reports a token of output at the start; the final count is in message_delta.
      usage: {
        input_tokens: turn.usage.input,
        cache_creation_input_tokens: turn.usage.cacheWrite,
        cache_read_input_tokens: turn.usage.cacheRead,
        output_tokens: 1,
      },
    },
  });
  emit("ping");
  let index = 0;
  const block = (contentBlock: Record<string, unknown>, deltas: Record<string, unknown>[]) => {
    emit("content_block_start", { index, content_block: contentBlock });
    for (const delta of deltas) emit("content_block_delta", { index, delta });
    emit("content_block_stop", { index });
    index++;
  };
  turn.parts.forEach((part, i) => {
    switch (part.type) {
      case "text":
        block(
          { type: "text", text: "" },
          textDeltas(part.text).map((text) => ({ type: "text_delta", text })),
        );
        break;
      case "reasoning":
        block({ type: "thinking", thinking: "", signature: "" }, [
          ...textDeltas(part.text).map((thinking) => ({ type: "thinking_delta", thinking })),
          { type: "signature_delta", signature: signatures.get(i) ?? "" },
        ]);
        break;
      case "tool-call":
        // The real API opens with an empty partial_json before the argument fragments.
        block({ type: "tool_use", id: part.id, name: part.name, input: {} }, [
          { type: "input_json_delta", partial_json: "" },
          ...splitInto(JSON.stringify(part.input), part.chunks).map((partial_json) => ({
            type: "input_json_delta",
            partial_json,
          })),
        ]);
        break;
      case "web-search": {
        const id = ctx.id("srvtoolu_");
        block(
          { type: "server_tool_use", id, name: "web_search", input: {} },
          splitInto(JSON.stringify({ query: part.query }), 2).map((partial_json) => ({
            type: "input_json_delta",
            partial_json,
          })),
        );
        block({ type: "web_search_tool_result", tool_use_id: id, content: searchResults(part.results) }, []);
        break;
      }
    }
  });
  emit("message_delta", {
    delta: { stop_reason: stopReasons[turn.finishReason], stop_sequence: null },
    usage: usageOf(turn, turn.usage.output),
  });
  emit("message_stop");
  return frames;
}

function jsonBody(turn: ResolvedTurn, ctx: RenderContext): unknown {
  return {
    id: ctx.id("msg_"),
    type: "message",
    role: "assistant",
    model: ctx.model,
    content: contentBlocks(turn, ctx, signaturesOf(turn, ctx)),
    stop_reason: stopReasons[turn.finishReason],
    stop_sequence: null,
    usage: usageOf(turn, turn.usage.output),
  };
}

const errorTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  429: "rate_limit_error",
  500: "api_error",
  502: "api_error",
  503: "api_error",
  529: "overloaded_error",
};

function errorBody(status: number, message: string) {
  return { type: "error", error: { type: errorTypes[status] ?? "api_error", message } };
}

const anthropicRolesSchema = z.object({ messages: z.array(z.object({ role: z.string() })) });

export const anthropic: WireFormat = {
  format: "anthropic",
  match: (pathname) => (pathname.endsWith("/messages") ? {} : undefined),
  invalidRequest(body) {
    // The Messages API takes instructions only in the top-level `system` field.
    const parsed = anthropicRolesSchema.safeParse(body);
    if (!parsed.success) return undefined;
    const index = parsed.data.messages.findIndex((message) => message.role !== "user" && message.role !== "assistant");
    return index === -1 ? undefined : `messages.${index}.role: Unexpected role "${parsed.data.messages[index]?.role}". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`;
  },
  describe(body) {
    const head = modelAndStreamSchema.parse(body);
    const messages = typeof body === "object" && body !== null && "messages" in body ? body.messages : undefined;
    return {
      model: head.model ?? "unknown",
      stream: head.stream === true,
      includeUsage: true,
      lastUserText: lastTextOfRole(messages, "user", "content"),
    };
  },
  streamFrames,
  jsonBody,
  errorBody,
  streamErrorFrame: (status, message) => sseEvent("error", errorBody(status, message)),
  responseHeaders: (requestId) => ({ "request-id": requestId }),
};
