/**
 * Gemini (`POST .../models/{model}:streamGenerateContent?alt=sse` and `:generateContent`).
 * Shapes follow the response, chunk and error schemas in `@ai-sdk/google`'s
 * `google-generative-ai-language-model.ts` and `google-error.ts`.
 *
 * Mapping of mock parts: reasoning is `thought: true` text parts (a signature becomes the
 * `thoughtSignature` of the last one); a tool call is one complete `functionCall` part, because
 * the Gemini API does not stream arguments (only Vertex does, on request), so `chunks` is
 * ignored; web search is `groundingMetadata` on the last chunk, which the SDK reports as
 * `source` parts and never as tool parts. Usage follows Gemini's convention:
 * `promptTokenCount` includes cached tokens and `candidatesTokenCount` excludes thoughts.
 */
import type { ResolvedTurn } from "./script.js";
import { citations, textDeltas } from "./script.js";
import { lastTextOfRole, sseData, type RenderContext, type WireFormat } from "./wire.js";

const finishReasons = { stop: "STOP", "tool-calls": "STOP", length: "MAX_TOKENS" } as const;

type Part = Record<string, unknown>;

function usageOf(turn: ResolvedTurn) {
  const { input, output, cacheRead, reasoning } = turn.usage;
  // Gemini has no notion of a cache write in usage; cacheWrite has nowhere to go.
  const prompt = input + cacheRead;
  return {
    promptTokenCount: prompt,
    ...(cacheRead > 0 ? { cachedContentTokenCount: cacheRead } : {}),
    candidatesTokenCount: output - reasoning,
    ...(reasoning > 0 ? { thoughtsTokenCount: reasoning } : {}),
    totalTokenCount: prompt + output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
  };
}

function groundingOf(turn: ResolvedTurn) {
  const queries = turn.parts.flatMap((part) => (part.type === "web-search" ? [part.query] : []));
  if (queries.length === 0) return undefined;
  const results = citations(turn.parts);
  const text = turn.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("");
  return {
    webSearchQueries: queries,
    searchEntryPoint: { renderedContent: `<div class="mock-search">${queries.length} searches</div>` },
    groundingChunks: results.map((result) => ({ web: { uri: result.url, title: result.title } })),
    groundingSupports:
      text.length > 0 && results.length > 0
        ? [{ segment: { startIndex: 0, endIndex: text.length, text }, groundingChunkIndices: results.map((_, i) => i) }]
        : [],
  };
}

function functionCall(part: { id: string; name: string; input: Record<string, unknown> }): Part {
  return { functionCall: { id: part.id, name: part.name, args: part.input } };
}

function streamFrames(turn: ResolvedTurn, ctx: RenderContext): string[] {
  const responseId = ctx.id("resp-");
  const chunk = (parts: Part[], final?: { candidate: Record<string, unknown>; response: Record<string, unknown> }) =>
    sseData(
      {
        candidates: [{ content: { parts, role: "model" }, index: 0, ...final?.candidate }],
        ...final?.response,
        modelVersion: ctx.model,
        responseId,
      },
      "\r\n",
    );
  const frames: string[] = [];
  for (const part of turn.parts) {
    switch (part.type) {
      case "text":
        for (const text of textDeltas(part.text)) frames.push(chunk([{ text }]));
        break;
      case "reasoning": {
        const pieces = textDeltas(part.text);
        pieces.forEach((text, i) => {
          const signature = i === pieces.length - 1 && part.signature !== undefined ? { thoughtSignature: part.signature } : {};
          frames.push(chunk([{ text, thought: true, ...signature }]));
        });
        break;
      }
      case "tool-call":
        frames.push(chunk([functionCall(part)]));
        break;
      case "web-search":
        break;
    }
  }
  const grounding = groundingOf(turn);
  frames.push(
    chunk([], {
      candidate: { finishReason: finishReasons[turn.finishReason], ...(grounding ? { groundingMetadata: grounding } : {}) },
      response: { usageMetadata: usageOf(turn) },
    }),
  );
  return frames;
}

function jsonBody(turn: ResolvedTurn, ctx: RenderContext): unknown {
  const parts = turn.parts.flatMap((part): Part[] => {
    switch (part.type) {
      case "text":
        return [{ text: part.text }];
      case "reasoning":
        return [{ text: part.text, thought: true, ...(part.signature !== undefined ? { thoughtSignature: part.signature } : {}) }];
      case "tool-call":
        return [functionCall(part)];
      case "web-search":
        return [];
    }
  });
  const grounding = groundingOf(turn);
  return {
    candidates: [
      {
        content: { parts, role: "model" },
        finishReason: finishReasons[turn.finishReason],
        index: 0,
        ...(grounding ? { groundingMetadata: grounding } : {}),
      },
    ],
    usageMetadata: usageOf(turn),
    modelVersion: ctx.model,
    responseId: ctx.id("resp-"),
  };
}

const statuses: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  529: "UNAVAILABLE",
};

function errorBody(status: number, message: string) {
  return { error: { code: status, message, status: statuses[status] ?? "UNKNOWN" } };
}

const route = /\/((?:tuned)?[mM]odels\/[^/:]+):(streamGenerateContent|generateContent)$/;

export const google: WireFormat = {
  format: "google",
  match(pathname) {
    const found = route.exec(pathname);
    if (!found?.[1] || !found[2]) return undefined;
    const modelPath = decodeURIComponent(found[1]);
    return {
      modelFromPath: modelPath.replace(/^models\//, ""),
      streamFromPath: found[2] === "streamGenerateContent",
    };
  },
  describe(body, route) {
    const contents = typeof body === "object" && body !== null && "contents" in body ? body.contents : undefined;
    return {
      model: route.modelFromPath ?? "unknown",
      stream: route.streamFromPath === true,
      includeUsage: true,
      lastUserText: lastTextOfRole(contents, "user", "parts"),
    };
  },
  streamFrames,
  jsonBody,
  errorBody,
  streamErrorFrame: (status, message) => sseData(errorBody(status, message), "\r\n"),
  responseHeaders: () => ({}),
};
