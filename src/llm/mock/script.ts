/**
 * The script language of the mock LLM: what a test (or a JSON file given to the CLI) says the
 * next model responses are. One turn answers one HTTP request, in any of the four wire formats;
 * the format modules turn a resolved turn into that provider's bytes.
 *
 * Turns are validated with zod even when enqueued from code, so a typo in a test fails at the
 * enqueue call instead of as a confusing SDK parse error much later.
 */
import { z } from "zod";

const positiveInt = z.number().int().min(1);
const count = z.number().int().min(0);

export const mockPartSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text"), text: z.string() }),
  z.strictObject({ type: z.literal("reasoning"), text: z.string(), signature: z.string().optional() }),
  z.strictObject({
    type: z.literal("tool-call"),
    id: z.string().min(1),
    name: z.string().min(1),
    // Every provider requires tool arguments to be a JSON object.
    input: z.record(z.string(), z.unknown()),
    chunks: positiveInt.default(3),
  }),
  z.strictObject({
    type: z.literal("web-search"),
    query: z.string(),
    results: z.array(z.strictObject({ url: z.string().min(1), title: z.string() })),
  }),
]);

export const mockUsageSchema = z.strictObject({
  /** Non-cached input tokens. */
  input: count,
  /** All output tokens, reasoning included. */
  output: count,
  cacheRead: count.optional(),
  cacheWrite: count.optional(),
  /** The part of `output` spent on reasoning. */
  reasoning: count.optional(),
});

export const mockFaultSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("http"),
    status: z.literal([400, 401, 429, 500, 502, 503, 529]),
    retryAfterSeconds: count.optional(),
    message: z.string().optional(),
  }),
  z.strictObject({ type: z.literal("reset"), afterChunks: count }),
  z.strictObject({ type: z.literal("truncate"), afterChunks: count }),
  z.strictObject({ type: z.literal("hang"), afterChunks: count }),
  z.strictObject({
    type: z.literal("stream-error"),
    afterChunks: count,
    status: z.literal([429, 500, 503, 529]).optional(),
    message: z.string().optional(),
  }),
]);

export const mockTurnSchema = z
  .strictObject({
    parts: z.array(mockPartSchema).optional(),
    usage: mockUsageSchema.optional(),
    finishReason: z.enum(["stop", "tool-calls", "length"]).optional(),
    chunkDelayMs: count.optional(),
    fault: mockFaultSchema.optional(),
  })
  .refine((turn) => (turn.usage?.reasoning ?? 0) <= (turn.usage?.output ?? 0), {
    message: "usage.reasoning is part of usage.output, so it cannot exceed it",
    path: ["usage", "reasoning"],
  });

const turnListSchema = z.array(mockTurnSchema);
const turnsObjectSchema = z.strictObject({ turns: turnListSchema }).transform((script) => script.turns);

/** A script file: a list of turns, bare or as `{ "turns": [...] }`. */
export const mockScriptSchema = z.union([turnListSchema, turnsObjectSchema]);

/** What a test writes (defaults optional). */
export type MockTurn = z.input<typeof mockTurnSchema>;
export type MockPart = z.input<typeof mockPartSchema>;
export type MockFault = z.output<typeof mockFaultSchema>;
export type MockUsage = z.input<typeof mockUsageSchema>;
export type ParsedTurn = z.output<typeof mockTurnSchema>;
export type ParsedPart = z.output<typeof mockPartSchema>;

export type FinishReason = "stop" | "tool-calls" | "length";

/** A turn with every default filled in: what the format modules render. */
export interface ResolvedTurn {
  parts: ParsedPart[];
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number };
  finishReason: FinishReason;
  chunkDelayMs: number;
  fault: MockFault | undefined;
}

export function parseTurn(turn: unknown): ParsedTurn {
  return mockTurnSchema.parse(turn);
}

/** Parses a script file's JSON text, with errors that name the offending turn and field. */
export function parseScript(jsonText: string, source = "script"): ParsedTurn[] {
  let data: unknown;
  try {
    data = JSON.parse(jsonText);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Choosing the shape first keeps errors about the offending field, not "matches no variant".
  const result = Array.isArray(data) ? turnListSchema.safeParse(data) : turnsObjectSchema.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `  at ${formatPath(issue.path)}: ${issue.message}`);
    throw new Error(`${source}: invalid mock script\n${issues.join("\n")}`);
  }
  return result.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`)).join("");
}

/**
 * Fills in defaults. Without scripted usage the numbers are estimated from the request size and
 * the answer's word count, so cost accounting downstream sees plausible non-zero values.
 */
export function resolveTurn(turn: ParsedTurn, requestBody: unknown, defaultChunkDelayMs = 0): ResolvedTurn {
  const parts = turn.parts ?? [];
  const hasToolCall = parts.some((part) => part.type === "tool-call");
  const usage = turn.usage ?? {
    input: Math.max(1, Math.ceil((JSON.stringify(requestBody) ?? "").length / 4)),
    output: Math.max(1, parts.reduce((sum, part) => sum + estimateOutputTokens(part), 0)),
  };
  return {
    parts,
    usage: {
      input: usage.input,
      output: usage.output,
      cacheRead: usage.cacheRead ?? 0,
      cacheWrite: usage.cacheWrite ?? 0,
      reasoning: usage.reasoning ?? 0,
    },
    finishReason: turn.finishReason ?? (hasToolCall ? "tool-calls" : "stop"),
    chunkDelayMs: turn.chunkDelayMs ?? defaultChunkDelayMs,
    fault: turn.fault,
  };
}

function estimateOutputTokens(part: ParsedPart): number {
  switch (part.type) {
    case "text":
    case "reasoning":
      return textDeltas(part.text).length;
    case "tool-call":
      return Math.ceil(JSON.stringify(part.input).length / 4);
    case "web-search":
      return 0;
  }
}

/** The turn answered when the queue is empty: the last user text, echoed word by word. */
export function defaultTurn(lastUserText: string | undefined): ParsedTurn {
  const text = lastUserText?.trim() ? lastUserText : "Hello from mock-llm. Send a message and I will echo it.";
  return { parts: [{ type: "text", text }] };
}

/** Splits text into word-sized deltas that concatenate back to exactly `text`. */
export function textDeltas(text: string): string[] {
  const pieces: string[] = [...(text.match(/\s*\S+/g) ?? [])];
  const covered = pieces.join("").length;
  if (covered < text.length) pieces.push(text.slice(covered));
  return pieces;
}

/** Splits a string into `chunks` contiguous pieces (fewer when it is shorter than that). */
export function splitInto(text: string, chunks: number): string[] {
  const n = Math.max(1, Math.min(chunks, text.length));
  const size = Math.ceil(text.length / n);
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/** Every web-search result of a turn, in order: the citations each provider attaches. */
export function citations(parts: readonly ParsedPart[]): { url: string; title: string }[] {
  return parts.flatMap((part) => (part.type === "web-search" ? part.results : []));
}
