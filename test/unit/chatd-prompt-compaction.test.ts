import { describe, expect, it } from "vitest";
import type { NewMessage } from "../../src/chats/store.js";
import { assemblePrompt, type PromptMessageRow } from "../../src/chatd/prompt/assemble.js";
import {
  CHAT_SUMMARIZED_TOOL,
  COMPACTION_DEFAULT_THRESHOLD,
  contextTokens,
  effectiveThreshold,
  EmptySummaryError,
  MAX_COMPACTION_RETRIES,
  shouldCompact,
  SUMMARY_PREFIX,
  SUMMARY_PROMPT,
  SUMMARY_TIMEOUT_MS,
  summaryMessages,
  summaryRequest,
  type ContextUsage,
} from "../../src/chatd/prompt/compaction.js";

const usage = (inputTokens: number | null, cacheReadTokens: number | null = null, cacheCreationTokens: number | null = null, totalTokens: number | null = null): ContextUsage => ({
  inputTokens,
  cacheReadTokens,
  cacheCreationTokens,
  totalTokens,
});

describe("constants", () => {
  it("match upstream", () => {
    expect(COMPACTION_DEFAULT_THRESHOLD).toBe(70);
    expect(SUMMARY_TIMEOUT_MS).toBe(90_000);
    expect(MAX_COMPACTION_RETRIES).toBe(3);
  });

  it.each(["goal", "decisions", "file paths", "commands", "identifiers", "Errors", "DONE", "IN PROGRESS", "REMAINS", "Current action", "no filler"])(
    "the summary prompt asks for %s",
    (phrase) => {
      expect(SUMMARY_PROMPT.toLowerCase()).toContain(phrase.toLowerCase());
    },
  );
});

describe("effectiveThreshold", () => {
  it.each<[number | null | undefined, number]>([
    [50, 50],
    [0, 0],
    [100, 100],
    [-1, 70],
    [101, 70],
    [Number.NaN, 70],
    [null, 70],
    [undefined, 70],
  ])("%s → %s", (input, expected) => {
    expect(effectiveThreshold(input)).toBe(expected);
  });
});

describe("contextTokens", () => {
  it.each<[string, ContextUsage, number]>([
    ["input + cache read + cache write", usage(100, 2000, 300, 9999), 2400],
    ["only input", usage(500, null, null, 900), 500],
    ["only cache read", usage(null, 700, null, 900), 700],
    ["total when none of the three is known", usage(null, null, null, 900), 900],
    ["zero when nothing is known", usage(null), 0],
  ])("%s", (_name, input, expected) => {
    expect(contextTokens(input)).toBe(expected);
  });
});

describe("shouldCompact", () => {
  it.each<[string, ContextUsage, number | null, number | null, boolean, number]>([
    ["below the threshold", usage(60_000), 100_000, 70, false, 60],
    ["exactly at the threshold", usage(70_000), 100_000, 70, true, 70],
    ["above, counting cached tokens", usage(10_000, 50_000, 15_000), 100_000, 70, true, 75],
    ["threshold 100 disables", usage(100_000), 100_000, 100, false, 100],
    ["out of range means 70 (compacts)", usage(71_000), 100_000, 150, true, 71],
    ["negative means 70 (does not compact)", usage(69_000), 100_000, -5, false, 69],
    ["null threshold means 70", usage(80_000), 100_000, null, true, 80],
    ["threshold 0 compacts any known context", usage(1), 100_000, 0, true, 0.001],
    ["unknown usage never compacts", usage(null), 100_000, 0, false, 0],
    ["unknown limit never compacts", usage(90_000), null, 70, false, 0],
    ["zero limit never compacts", usage(90_000), 0, 70, false, 0],
    ["total as fallback", usage(null, null, null, 85_000), 100_000, 80, true, 85],
  ])("%s", (_name, input, limit, threshold, compact, percent) => {
    const check = shouldCompact(input, limit, threshold);
    expect(check.compact).toBe(compact);
    expect(check.usagePercent).toBeCloseTo(percent, 6);
  });

  it("reports the figures the summary records", () => {
    expect(shouldCompact(usage(1000, 500, 0), 2000, 200)).toEqual({ compact: true, usagePercent: 75, contextTokens: 1500, thresholdPercent: 70 });
  });
});

describe("summaryRequest", () => {
  it("appends the summary prompt as a final user message", () => {
    expect(summaryRequest([{ role: "user", content: "hi" }])).toEqual([
      { role: "user", content: "hi" },
      { role: "user", content: [{ type: "text", text: SUMMARY_PROMPT }] },
    ]);
  });
});

describe("summaryMessages", () => {
  const figures = { thresholdPercent: 70, usagePercent: 72.5, contextTokens: 145_000, contextLimit: 200_000, callId: "compact_1" };

  it("builds the summary, the chat_summarized call and its result", () => {
    const messages: NewMessage[] = summaryMessages("  Goal: ship it.\nDONE: tests.  ", figures);
    expect(messages).toEqual([
      { role: "user", visibility: "model", compressed: true, parts: [{ type: "text", text: `${SUMMARY_PREFIX}Goal: ship it.\nDONE: tests.` }] },
      {
        role: "assistant",
        visibility: "user",
        compressed: true,
        parts: [{ type: "tool-call", tool_call_id: "compact_1", tool_name: CHAT_SUMMARIZED_TOOL, args: { source: "automatic", threshold_percent: 70 } }],
      },
      {
        role: "tool",
        visibility: "both",
        compressed: true,
        parts: [
          {
            type: "tool-result",
            tool_call_id: "compact_1",
            tool_name: CHAT_SUMMARIZED_TOOL,
            result: { summary: "Goal: ship it.\nDONE: tests.", source: "automatic", threshold_percent: 70, usage_percent: 72.5, context_tokens: 145_000, context_limit_tokens: 200_000 },
          },
        ],
      },
    ]);
    expect(SUMMARY_PREFIX).toBe(
      "The following is a summary of the earlier conversation. The assistant was actively working when the context was compacted. Continue the work described below:\n\n",
    );
  });

  it.each(["", "   \n\t"])("throws on an empty summary (%j)", (summary) => {
    expect(() => summaryMessages(summary, figures)).toThrow(EmptySummaryError);
  });

  it("persisted, makes the next prompt open with the summary as a user message", () => {
    const before: PromptMessageRow[] = [
      { id: 1, role: "system", visibility: "model", compressed: false, deleted: false, parts: [{ type: "text", text: "sys" }] },
      { id: 2, role: "user", visibility: "both", compressed: false, deleted: false, parts: [{ type: "text", text: "long task" }] },
      { id: 3, role: "assistant", visibility: "both", compressed: false, deleted: false, parts: [{ type: "text", text: "working" }] },
    ];
    const persisted = summaryMessages("Working on the long task.", figures).map((message, index) => ({ ...message, id: 4 + index, deleted: false }));
    expect(assemblePrompt([...before, ...persisted], { provider: "anthropic" }).map((message) => message.role)).toEqual(["system", "user"]);
    const prompt = assemblePrompt([...before, ...persisted], { provider: "openai" });
    expect(prompt[1]).toEqual({ role: "user", content: [{ type: "text", text: `${SUMMARY_PREFIX}Working on the long task.` }] });
  });
});
