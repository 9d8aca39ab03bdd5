/**
 * Compaction helpers (behavior.md section 5, "Compaction"): when a chat's context is full
 * enough to summarize, the prompt that asks for the summary, and the three messages that
 * persist it. Pure; the loop makes the summary call and the transaction.
 *
 * Invariants:
 * - Threshold 100 disables compaction; a threshold outside 0..100 (or missing) means 70.
 * - Context tokens are the step's non-cached input + cache reads + cache writes (usage.ts
 *   stores `inputTokens` without cached tokens), or its total when none of those is known. An
 *   unknown or zero context, or a missing limit, never triggers compaction.
 * - The persisted summary is a USER message (visibility `model`, compressed): prompt assembly
 *   sends the latest one as the conversation's first message, so a compacted prompt still
 *   opens with a user turn. The `chat_summarized` call (visibility `user`) and its result
 *   (visibility `both`) are compressed too, so they are shown but never sent to the model.
 * - An empty summary is an error, never persisted.
 */
import type { ModelMessage } from "ai";
import type { ChatMessagePart } from "../../sdk/schemas/parts.js";

/** Upstream's default: compact at 70 % of the context window. */
export const COMPACTION_DEFAULT_THRESHOLD = 70;
/** A threshold of 100 % turns compaction off. */
export const COMPACTION_DISABLED_THRESHOLD = 100;
/** The summary call's deadline (upstream). */
export const SUMMARY_TIMEOUT_MS = 90_000;
/** How often a run may re-enter the loop after compacting on its final step (upstream). */
export const MAX_COMPACTION_RETRIES = 3;
/** The tool name the UI shows the compaction under. */
export const CHAT_SUMMARIZED_TOOL = "chat_summarized";
/** Where the persisted summary starts; the summary text follows. */
export const SUMMARY_PREFIX =
  "The following is a summary of the earlier conversation. The assistant was actively working when the context was compacted. Continue the work described below:\n\n";

export const SUMMARY_PROMPT = [
  "The conversation so far is about to be replaced by a summary, because the context window is nearly full. Write that summary now. It is all that will remain: after it, you will continue the work from the summary alone, with no access to the messages above.",
  "",
  "Do not call tools. Write the summary as plain text with these sections:",
  "1. Goal: what the user asked for, including constraints, preferences and acceptance criteria they stated.",
  "2. Decisions: choices made and why, and approaches tried and rejected.",
  "3. Technical details: exact file paths, functions, commands, identifiers, branch names, URLs, versions, configuration values and code snippets that the remaining work needs. Copy them verbatim.",
  "4. Errors: errors and failures met, how each was resolved, and any that are still unresolved.",
  "5. Progress: DONE (completed and verified), IN PROGRESS (started, with its exact state), REMAINS (not started yet).",
  "6. Current action: what you were doing at the moment of this summary, and the immediate next step.",
  "",
  "Be dense and specific: facts, not narrative. No greetings, no filler, no restating these instructions.",
].join("\n");

/** Token usage of the last step, as stored (null = not reported). */
export interface ContextUsage {
  inputTokens: number | null;
  cacheReadTokens: number | null;
  cacheCreationTokens: number | null;
  totalTokens: number | null;
}

export interface CompactionCheck {
  compact: boolean;
  /** Context tokens as a percentage of the limit (0 when the limit is unknown). */
  usagePercent: number;
  contextTokens: number;
  /** The threshold actually applied, after the default for out-of-range values. */
  thresholdPercent: number;
}

/** The threshold that applies: out-of-range or missing values fall back to the default. */
export function effectiveThreshold(threshold: number | null | undefined): number {
  if (threshold === null || threshold === undefined || !Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
    return COMPACTION_DEFAULT_THRESHOLD;
  }
  return threshold;
}

const known = (value: number | null): value is number => value !== null && Number.isFinite(value);

/** Tokens the last step's prompt occupied: input + cache read + cache write, else the total. */
export function contextTokens(usage: ContextUsage): number {
  const parts = [usage.inputTokens, usage.cacheReadTokens, usage.cacheCreationTokens].filter(known);
  if (parts.length > 0) return parts.reduce((sum, value) => sum + value, 0);
  return known(usage.totalTokens) ? usage.totalTokens : 0;
}

/** Whether the context is full enough to compact, with the figures the summary records. */
export function shouldCompact(usage: ContextUsage, contextLimit: number | null | undefined, threshold: number | null | undefined): CompactionCheck {
  const thresholdPercent = effectiveThreshold(threshold);
  const tokens = contextTokens(usage);
  const limit = contextLimit !== null && contextLimit !== undefined && Number.isFinite(contextLimit) && contextLimit > 0 ? contextLimit : 0;
  const usagePercent = limit > 0 ? (tokens / limit) * 100 : 0;
  const compact = thresholdPercent !== COMPACTION_DISABLED_THRESHOLD && limit > 0 && tokens > 0 && usagePercent >= thresholdPercent;
  return { compact, usagePercent, contextTokens: tokens, thresholdPercent };
}

/** The summary call's prompt: the full conversation, then the summary request as a user turn. */
export function summaryRequest(conversation: readonly ModelMessage[]): ModelMessage[] {
  return [...conversation, { role: "user", content: [{ type: "text", text: SUMMARY_PROMPT }] }];
}

/** A message to persist, shaped for chats/store.ts `insertMessages` (`NewMessage`). */
export interface SummaryMessage {
  role: "user" | "assistant" | "tool";
  visibility: "user" | "model" | "both";
  compressed: true;
  parts: ChatMessagePart[];
}

export interface SummaryFigures {
  thresholdPercent: number;
  usagePercent: number;
  contextTokens: number;
  contextLimit: number;
  /** Id of the synthetic `chat_summarized` tool call (the caller makes it). */
  callId: string;
}

export class EmptySummaryError extends Error {
  constructor() {
    super("compaction produced an empty summary");
    this.name = "EmptySummaryError";
  }
}

/**
 * The three messages that persist a compaction, in insert order: the summary the model sees,
 * the `chat_summarized` call and its result the UI shows. Throws on a blank summary.
 */
export function summaryMessages(summary: string, figures: SummaryFigures): [SummaryMessage, SummaryMessage, SummaryMessage] {
  const text = summary.trim();
  if (text === "") throw new EmptySummaryError();
  const source = "automatic";
  return [
    { role: "user", visibility: "model", compressed: true, parts: [{ type: "text", text: SUMMARY_PREFIX + text }] },
    {
      role: "assistant",
      visibility: "user",
      compressed: true,
      parts: [
        {
          type: "tool-call",
          tool_call_id: figures.callId,
          tool_name: CHAT_SUMMARIZED_TOOL,
          args: { source, threshold_percent: figures.thresholdPercent },
        },
      ],
    },
    {
      role: "tool",
      visibility: "both",
      compressed: true,
      parts: [
        {
          type: "tool-result",
          tool_call_id: figures.callId,
          tool_name: CHAT_SUMMARIZED_TOOL,
          result: {
            summary: text,
            source,
            threshold_percent: figures.thresholdPercent,
            usage_percent: figures.usagePercent,
            context_tokens: figures.contextTokens,
            context_limit_tokens: figures.contextLimit,
          },
        },
      ],
    },
  ];
}
