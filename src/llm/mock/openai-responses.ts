/**
 * OpenAI Responses (`POST .../responses`), what `openai(model)` uses by default. Event names and
 * item shapes follow `openaiResponsesChunkSchema` and `openaiResponsesResponseSchema` in
 * `@ai-sdk/openai`'s `responses/openai-responses-api.ts`. Events the SDK does not model
 * (`response.in_progress`, `response.content_part.added`, `response.output_text.done`, the
 * `response.web_search_call.*` progress events) are sent anyway, as the real API does, so the
 * SDK's tolerance of them is exercised too.
 *
 * Mapping of mock parts: reasoning is a `reasoning` item with one summary part (its `signature`
 * becomes `encrypted_content`); web search is a `web_search_call` item whose results are cited
 * as `url_citation` annotations on the next message (an empty message if no text follows).
 */
import type { ParsedPart, ResolvedTurn } from "./script.js";
import { splitInto, textDeltas } from "./script.js";
import { openaiErrorBody } from "./openai-chat.js";
import { lastTextOfRole, modelAndStreamSchema, sseEvent, type RenderContext, type WireFormat } from "./wire.js";

type Citation = { url: string; title: string };
type Item = Record<string, unknown>;

function usageOf(turn: ResolvedTurn) {
  const { input, output, cacheRead, cacheWrite, reasoning } = turn.usage;
  // input_tokens counts cached tokens too, like Chat Completions' prompt_tokens.
  const inputTokens = input + cacheRead + cacheWrite;
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: cacheRead, ...(cacheWrite > 0 ? { cache_write_tokens: cacheWrite } : {}) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: inputTokens + output,
  };
}

function urlCitation(citation: Citation, text: string) {
  return { type: "url_citation", start_index: 0, end_index: text.length, url: citation.url, title: citation.title };
}

/**
 * The output items of a turn, in order. Citations wait for the next message; leftover ones get
 * an empty message of their own, since annotations only exist on message text.
 */
function outputItems(turn: ResolvedTurn, ctx: RenderContext): { part: ParsedPart | undefined; item: Item; citations: Citation[] }[] {
  const items: { part: ParsedPart | undefined; item: Item; citations: Citation[] }[] = [];
  let pending: Citation[] = [];
  const message = (text: string, part: ParsedPart | undefined) => {
    const cited = pending;
    pending = [];
    items.push({
      part,
      citations: cited,
      item: {
        id: ctx.id("msg_"),
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text, annotations: cited.map((c) => urlCitation(c, text)), logprobs: [] }],
      },
    });
  };
  for (const part of turn.parts) {
    switch (part.type) {
      case "text":
        message(part.text, part);
        break;
      case "reasoning":
        items.push({
          part,
          citations: [],
          item: {
            id: ctx.id("rs_"),
            type: "reasoning",
            summary: [{ type: "summary_text", text: part.text }],
            encrypted_content: part.signature ?? null,
          },
        });
        break;
      case "tool-call":
        items.push({
          part,
          citations: [],
          item: {
            id: ctx.id("fc_"),
            type: "function_call",
            status: "completed",
            arguments: JSON.stringify(part.input),
            call_id: part.id,
            name: part.name,
          },
        });
        break;
      case "web-search":
        pending.push(...part.results);
        items.push({
          part,
          citations: [],
          item: {
            id: ctx.id("ws_"),
            type: "web_search_call",
            status: "completed",
            action: { type: "search", query: part.query, sources: part.results.map((r) => ({ type: "url", url: r.url })) },
          },
        });
        break;
    }
  }
  if (pending.length > 0) message("", undefined);
  return items;
}

function responseObject(turn: ResolvedTurn, ctx: RenderContext, id: string, output: Item[], done: boolean) {
  const incomplete = done && turn.finishReason === "length";
  return {
    id,
    object: "response",
    created_at: ctx.created,
    status: done ? (incomplete ? "incomplete" : "completed") : "in_progress",
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    model: ctx.model,
    output,
    parallel_tool_calls: true,
    service_tier: "default",
    usage: done ? usageOf(turn) : null,
  };
}

function streamFrames(turn: ResolvedTurn, ctx: RenderContext): string[] {
  const frames: string[] = [];
  let sequence = 0;
  const emit = (type: string, data: Record<string, unknown>) =>
    frames.push(sseEvent(type, { type, sequence_number: sequence++, ...data }));
  const responseId = ctx.id("resp_");
  const items = outputItems(turn, ctx);
  emit("response.created", { response: responseObject(turn, ctx, responseId, [], false) });
  emit("response.in_progress", { response: responseObject(turn, ctx, responseId, [], false) });

  items.forEach(({ part, item, citations }, outputIndex) => {
    const itemId = String(item.id);
    const base = { item_id: itemId, output_index: outputIndex };
    if (item.type === "message") {
      const text = part?.type === "text" ? part.text : "";
      const emptyPart = { type: "output_text", text: "", annotations: [], logprobs: [] };
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", content: [] },
      });
      emit("response.content_part.added", { ...base, content_index: 0, part: emptyPart });
      for (const delta of textDeltas(text)) {
        emit("response.output_text.delta", { ...base, content_index: 0, delta, logprobs: [] });
      }
      citations.forEach((citation, annotationIndex) => {
        emit("response.output_text.annotation.added", {
          ...base,
          content_index: 0,
          annotation_index: annotationIndex,
          annotation: urlCitation(citation, text),
        });
      });
      emit("response.output_text.done", { ...base, content_index: 0, text, logprobs: [] });
      emit("response.content_part.done", { ...base, content_index: 0, part: { ...emptyPart, text } });
    } else if (item.type === "reasoning" && part?.type === "reasoning") {
      emit("response.output_item.added", { output_index: outputIndex, item: { ...item, summary: [] } });
      const summaryBase = { ...base, summary_index: 0 };
      emit("response.reasoning_summary_part.added", { ...summaryBase, part: { type: "summary_text", text: "" } });
      for (const delta of textDeltas(part.text)) emit("response.reasoning_summary_text.delta", { ...summaryBase, delta });
      emit("response.reasoning_summary_text.done", { ...summaryBase, text: part.text });
      emit("response.reasoning_summary_part.done", { ...summaryBase, part: { type: "summary_text", text: part.text } });
    } else if (item.type === "function_call" && part?.type === "tool-call") {
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      const args = JSON.stringify(part.input);
      for (const delta of splitInto(args, part.chunks)) emit("response.function_call_arguments.delta", { ...base, delta });
      emit("response.function_call_arguments.done", { ...base, arguments: args });
    } else if (item.type === "web_search_call") {
      emit("response.output_item.added", { output_index: outputIndex, item: { id: itemId, type: "web_search_call", status: "in_progress" } });
      emit("response.web_search_call.in_progress", base);
      emit("response.web_search_call.searching", base);
      emit("response.web_search_call.completed", base);
    }
    emit("response.output_item.done", { output_index: outputIndex, item });
  });

  const output = items.map(({ item }) => item);
  const done = responseObject(turn, ctx, responseId, output, true);
  emit(done.status === "incomplete" ? "response.incomplete" : "response.completed", { response: done });
  return frames;
}

function jsonBody(turn: ResolvedTurn, ctx: RenderContext): unknown {
  const output = outputItems(turn, ctx).map(({ item }) => item);
  return responseObject(turn, ctx, ctx.id("resp_"), output, true);
}

export const openaiResponses: WireFormat = {
  format: "openai-responses",
  match: (pathname) => (pathname.endsWith("/responses") ? {} : undefined),
  describe(body) {
    const head = modelAndStreamSchema.parse(body);
    const input = typeof body === "object" && body !== null && "input" in body ? body.input : undefined;
    return {
      model: head.model ?? "unknown",
      stream: head.stream === true,
      includeUsage: true,
      lastUserText: typeof input === "string" ? input : lastTextOfRole(input, "user", "content"),
    };
  },
  streamFrames,
  jsonBody,
  errorBody: openaiErrorBody,
  streamErrorFrame(status, message) {
    const { error } = openaiErrorBody(status, message);
    return sseEvent("error", { type: "error", sequence_number: 0, code: error.code ?? error.type, message, param: null });
  },
  responseHeaders: (requestId) => ({ "x-request-id": requestId, "openai-processing-ms": "1" }),
};
