/**
 * Compaction (behavior.md section 5): when a step's context use crosses the model config's
 * threshold, the conversation is summarized by one non-streaming call and the summary stored as
 * three compressed messages; prompt assembly then starts from the latest summary. Failures are
 * logged and leave the history as it was: a missing summary is better than a broken chat.
 *
 * Viewers see it like any step (behavior.md section 5, part emission): a `chat_summarized` tool
 * call (no args) when the summary call starts, its tool result (or an error result) when it ends,
 * then the persisted messages; the part buffer is cleared once they are durable.
 */
import { randomUUID } from "node:crypto";
import { generateText } from "ai";
import { persistStep } from "../../chats/state.js";
import type { ChatRow } from "../../chats/store.js";
import type { ResolvedModel } from "../../llm/resolve.js";
import { describeError, withRetry } from "../../llm/retry.js";
import type { NormalizedUsage } from "../../llm/usage.js";
import { CHAT_SUMMARIZED_TOOL, shouldCompact, summaryMessages, summaryRequest, SUMMARY_TIMEOUT_MS } from "../prompt/compaction.js";
import type { RunControl, RunDependencies } from "./types.js";
import { loadHistory } from "./history.js";

export async function compactIfNeeded(
  deps: RunDependencies,
  chat: ChatRow,
  resolved: ResolvedModel,
  usage: NormalizedUsage,
  contextLimit: number | null,
  control: RunControl,
): Promise<boolean> {
  const check = shouldCompact(usage, contextLimit, resolved.config.compressionThreshold);
  if (!check.compact || contextLimit === null) return false;
  const callId = `${CHAT_SUMMARIZED_TOOL}_${randomUUID()}`;
  const summarizing = { tool_call_id: callId, tool_name: CHAT_SUMMARIZED_TOOL };
  deps.hub.beginEpisode(chat.id);
  deps.hub.publishPart(chat.id, "assistant", { type: "tool-call", ...summarizing });
  try {
    const conversation = await deps.prompt.build(chat, await loadHistory(deps.db, chat.id));
    const summary = await withRetry(
      async () => {
        const timeout = AbortSignal.timeout(SUMMARY_TIMEOUT_MS);
        const result = await generateText({
          model: resolved.model,
          messages: summaryRequest(conversation),
          allowSystemInMessages: true,
          toolChoice: "none",
          ...resolved.settings,
          abortSignal: AbortSignal.any([control.signal, timeout]),
        });
        return result.text;
      },
      { signal: control.signal, ...(deps.retryBaseDelayMs === undefined ? {} : { baseDelayMs: deps.retryBaseDelayMs }) },
    );
    const messages = summaryMessages(summary, {
      thresholdPercent: check.thresholdPercent,
      usagePercent: check.usagePercent,
      contextTokens: check.contextTokens,
      contextLimit,
      callId,
    });
    for (const part of messages[2].parts) deps.hub.publishPart(chat.id, "tool", part);
    const persisted = await persistStep(deps.db, deps.hints, {
      chatId: chat.id,
      lease: control.lease,
      messages: messages.map((m) => ({ ...m, modelConfigId: resolved.config.id })),
    });
    deps.hub.clearParts(chat.id);
    if (!persisted.persisted) return false;
    // The model-only summary (the first) is not for viewers; the summarized card is.
    for (const message of persisted.messages.slice(1)) deps.hub.publish({ type: "message", chat_id: chat.id, message_id: message.id });
    return true;
  } catch (error) {
    // The card shown when the call started must not spin forever: it ends as an error result.
    if (!control.signal.aborted) {
      deps.hub.publishPart(chat.id, "tool", { type: "tool-result", ...summarizing, result: { error: `summarization failed: ${describeError(error)}` }, is_error: true });
    }
    deps.log?.warn({ chat_id: chat.id, error: describeError(error) }, "compaction failed; continuing without it");
    return false;
  }
}
