/**
 * The chat loop: one model call per step, the step's local tools run concurrently, each step
 * persisted in one transaction, until the model stops calling tools (behavior.md section 5).
 *
 * Invariants:
 * - Every local tool call in history gets exactly one result: real, "Tool not found", a tool
 *   error, or (on interrupt) a synthetic "interrupted" error.
 * - No transaction is open while the model or a tool runs.
 * - An interrupt persists what the step had streamed so far; a shutdown does not (the next
 *   replica re-runs the step from the last persisted one).
 * - A retry discards the failed attempt's partial output and clears the part buffer first.
 * - A run that finds the final answer already stored (its predecessor died before finishing the
 *   chat) ends without calling the model, so the answer is never stored twice.
 */
import { tool as sdkTool, type ToolSet } from "ai";
import { persistStep } from "../../chats/state.js";
import type { ChatRow, NewMessage } from "../../chats/store.js";
import { computeCostMicros } from "../../llm/cost.js";
import { contextLimitFromMetadata } from "../../llm/context-limit.js";
import type { ResolvedModel } from "../../llm/resolve.js";
import { describeError, withRetry } from "../../llm/retry.js";
import { normalizeUsage } from "../../llm/usage.js";
import { capOutput, type ChatTool } from "../tools/registry.js";
import { NO_CHAT_METRICS, type ChatMetrics } from "../../observability/chat-metrics.js";
import { streamStep, type LocalToolCall, type StepOutput } from "./step.js";
import { compactIfNeeded } from "./compact.js";
import { endsWithAnswer, loadHistory } from "./history.js";
import { MAX_COMPACTION_RETRIES } from "../prompt/compaction.js";
import type { ChatMessagePart } from "../../sdk/schemas/parts.js";

/** behavior.md: a run makes at most 1 200 model calls, a backstop against a looping model. */
export const MAX_CHAT_STEPS = 1200;

export const INTERRUPTED_RESULT = "tool call was interrupted before it produced a result";

export type { HistoryMessage, PromptSource, RunControl, RunDependencies, RunEnd, StopCause } from "./types.js";
import type { RunControl, RunDependencies, RunEnd } from "./types.js";

/**
 * The AI SDK view of the tools this run offers: schemas only (or the provider's own declaration,
 * for Anthropic's `computer`), without `execute`, so every call comes back to the loop to run.
 */
function sdkTools(offered: ReadonlyMap<string, ChatTool>, resolved: ResolvedModel): ToolSet {
  const tools: ToolSet = { ...resolved.tools };
  for (const tool of offered.values()) {
    tools[tool.name] = tool.providerDefinition ?? sdkTool({ description: tool.description, inputSchema: tool.inputSchema });
  }
  return tools;
}

async function runTools(
  offered: ReadonlyMap<string, ChatTool>,
  chat: ChatRow,
  calls: readonly LocalToolCall[],
  signal: AbortSignal,
  metrics: ChatMetrics,
): Promise<ChatMessagePart[]> {
  // Concurrently, one promise per call; results are reported in call order once all are done.
  return Promise.all(
    calls.map(async (call): Promise<ChatMessagePart> => {
      const base = { type: "tool-result" as const, tool_call_id: call.id, tool_name: call.name };
      // A tool this run did not offer (a root-only tool named by a child, one replayed from an
      // older run) gets the same answer as an unknown one.
      const tool = offered.get(call.name);
      if (!tool) return { ...base, result: { error: `Tool not found: ${call.name}` }, is_error: true };
      // Only offered tools are measured: a name the model invented must not become a metric label.
      const started = performance.now();
      const measured = (part: ChatMessagePart): ChatMessagePart => {
        metrics.toolCall(tool.name, (performance.now() - started) / 1000, part.is_error === true);
        return part;
      };
      try {
        const output = await tool.execute(call.input, { chatId: chat.id, ownerId: chat.ownerId, signal });
        if (signal.aborted) return measured({ ...base, result: { error: INTERRUPTED_RESULT }, is_error: true });
        return measured({ ...base, result: capOutput(output.result, tool.outputCapBytes), ...(output.isError ? { is_error: true } : {}) });
      } catch (error) {
        if (signal.aborted) return measured({ ...base, result: { error: INTERRUPTED_RESULT }, is_error: true });
        return measured({ ...base, result: { error: `tool failed: ${describeError(error)}` }, is_error: true });
      }
    }),
  );
}

function noticePart(notices: readonly string[]): ChatMessagePart | undefined {
  if (notices.length === 0) return undefined;
  return { type: "text", text: `Note: ${notices.join(" ")}\n\n` };
}

/**
 * The step with the notice as its first text, after any reasoning: providers that sign their
 * reasoning (Anthropic) want it first in the assistant message when it is replayed.
 */
function withNotice(step: StepOutput, notice: ChatMessagePart | undefined): StepOutput {
  if (!notice) return step;
  const at = step.parts.findIndex((part) => part.type !== "reasoning");
  const index = at === -1 ? step.parts.length : at;
  return { ...step, parts: [...step.parts.slice(0, index), notice, ...step.parts.slice(index)] };
}

function stepMessages(
  resolved: ResolvedModel,
  step: StepOutput,
  results: readonly ChatMessagePart[],
  runtimeMs: number | null,
): NewMessage[] {
  const usage = step.usage ? normalizeUsage(resolved.provider, step.usage) : undefined;
  const contextLimit = stepContextLimit(resolved, step);
  const assistant: NewMessage = {
    role: "assistant",
    parts: step.parts,
    modelConfigId: resolved.config.id,
    ...(usage ? { usage: { ...usage, contextLimit }, totalCostMicros: computeCostMicros(usage, resolved.options.cost) } : {}),
    runtimeMs,
  };
  return [assistant, ...results.map((part): NewMessage => ({ role: "tool", parts: [part], modelConfigId: resolved.config.id }))];
}

function stepContextLimit(resolved: ResolvedModel, step: StepOutput): number | null {
  return contextLimitFromMetadata(step.providerMetadata, resolved.config.contextLimit);
}

/** Runs the chat until the model stops calling tools, or the run is stopped. */
export async function runChatLoop(deps: RunDependencies, chat: ChatRow, resolved: ResolvedModel, control: RunControl): Promise<RunEnd> {
  const metrics = deps.metrics ?? NO_CHAT_METRICS;
  const offered = await deps.tools.offerFor(chat);
  const dynamic = deps.dynamicTools ? await deps.dynamicTools(chat) : { tools: [], notices: [] };
  for (const tool of dynamic.tools) if (!offered.has(tool.name)) offered.set(tool.name, tool);
  const tools = sdkTools(offered, resolved);
  // Shown once, in the first step this run stores (a skipped MCP server must be visible).
  let notice = noticePart(dynamic.notices);
  let reentries = 0;
  for (let stepNumber = 0; stepNumber < MAX_CHAT_STEPS; stepNumber++) {
    const started = performance.now();
    const history = await loadHistory(deps.db, chat.id);
    // Re-acquired after its answer was stored: the run only has to end (and promote the queue).
    if (stepNumber === 0 && endsWithAnswer(history)) return { status: "waiting" };
    const messages = await deps.prompt.build(chat, history);
    let step: StepOutput;
    try {
      step = await withRetry(
        async () => {
          deps.hub.beginEpisode(chat.id);
          return streamStep({
            model: resolved.model,
            settings: resolved.settings,
            messages,
            tools,
            signal: control.signal,
            onPart: (role, part) => deps.hub.publishPart(chat.id, role, part),
          });
        },
        {
          signal: control.signal,
          ...(deps.retryBaseDelayMs === undefined ? {} : { baseDelayMs: deps.retryBaseDelayMs }),
          onRetry: (info) => {
            // The failed attempt's preview is void now, not only when the next attempt begins.
            deps.hub.clearParts(chat.id);
            const retry = { attempt: info.attempt, delay_ms: info.delayMs, error: info.error, retrying_at: info.retryingAt.toISOString() };
            deps.hub.publish({ type: "retry", chat_id: chat.id, retry });
            void deps.hints.stream(null, chat.id, { retry }).catch(() => undefined);
          },
        },
      );
    } catch (error) {
      if (control.signal.aborted) return stopped(deps, chat, control, undefined);
      return { status: "error", error: describeError(error) };
    }
    if (step.aborted || control.signal.aborted) return stopped(deps, chat, control, step);

    const results = await runTools(offered, chat, step.localCalls, control.signal, metrics);
    if (control.signal.aborted) return stopped(deps, chat, control, step, results);
    for (const result of results) deps.hub.publishPart(chat.id, "tool", result);

    const stepMs = performance.now() - started;
    metrics.stepDuration(stepMs / 1000);
    const persisted = await persistStep(deps.db, deps.hints, {
      chatId: chat.id,
      lease: control.lease,
      messages: stepMessages(resolved, withNotice(step, notice), results, Math.round(stepMs)),
    });
    notice = undefined;
    deps.hub.clearParts(chat.id);
    if (!persisted.persisted) return { status: "lost" };
    for (const message of persisted.messages) deps.hub.publish({ type: "message", chat_id: chat.id, message_id: message.id });
    const compacted = step.usage
      ? await compactIfNeeded(deps, chat, resolved, normalizeUsage(resolved.provider, step.usage), stepContextLimit(resolved, step), control)
      : false;
    if (control.signal.aborted) return stopped(deps, chat, control, undefined);
    const wantsTools = step.localCalls.length > 0 && step.finishReason === "tool-calls";
    if (wantsTools) continue;
    // The model stopped on a step that filled the context: let it continue from the summary.
    if (compacted && reentries < MAX_COMPACTION_RETRIES) {
      reentries++;
      continue;
    }
    return { status: "waiting" };
  }
  return { status: "waiting" };
}

/**
 * The run was stopped. On interrupt the partial step is stored, every unanswered call getting a
 * synthetic error result; on shutdown nothing is stored and the chat goes back to pending.
 */
async function stopped(
  deps: RunDependencies,
  chat: ChatRow,
  control: RunControl,
  step: StepOutput | undefined,
  results: readonly ChatMessagePart[] = [],
): Promise<RunEnd> {
  if (control.cause() === "shutdown") return { status: "pending", reason: "shutdown" };
  if (step && step.parts.length > 0) {
    const answered = new Set(results.map((r) => r.tool_call_id));
    const synthetic = step.localCalls
      .filter((call) => !answered.has(call.id))
      .map((call): ChatMessagePart => ({
        type: "tool-result",
        tool_call_id: call.id,
        tool_name: call.name,
        result: { error: INTERRUPTED_RESULT },
        is_error: true,
      }));
    const messages: NewMessage[] = [
      { role: "assistant", parts: step.parts },
      ...[...results, ...synthetic].map((part): NewMessage => ({ role: "tool", parts: [part] })),
    ];
    const persisted = await persistStep(deps.db, deps.hints, { chatId: chat.id, lease: control.lease, messages });
    deps.hub.clearParts(chat.id);
    if (persisted.persisted) {
      for (const message of persisted.messages) deps.hub.publish({ type: "message", chat_id: chat.id, message_id: message.id });
    }
  }
  return { status: "waiting" };
}
