/**
 * One chat's timeline as a pure reducer over the stream's events, so every rule is tested
 * without a browser:
 * - durable messages are keyed by id and kept in id order; a message seen twice replaces itself;
 * - the stream only ever sends messages newer than its cursor, so a `message` event with an id at
 *   or below the newest one held means history was rewritten (an edit, here or elsewhere: the
 *   server re-sends from the start); the state asks for a reload instead of
 *   guessing which messages were deleted (`replays` counts such events; the view reloads once
 *   they stop arriving);
 * - live parts belong to one episode (a step, retry or edit); a part from another episode, a
 *   `preview_reset`, or a durable assistant/tool message (the step was persisted) clears them, in
 *   the same update that adds what replaces them, so text never blinks;
 * - text and reasoning deltas append to the last block of their kind; tool input deltas append to
 *   their call's arguments; a complete call or a result replaces the partial one.
 */
import type {
  ChatMessageResponse,
  ChatMessagePart,
  ChatQueuedMessageResponse,
  ChatResponse,
  StreamEvent,
} from "../../../src/sdk/schemas/index.js";

export type ChatStatus = ChatResponse["status"];

export type LiveBlock =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string }
  | { kind: "tool"; toolCallId: string; toolName: string; argsText: string; args?: unknown; result?: ChatMessagePart }
  | { kind: "source"; part: ChatMessagePart };

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: string;
  retryingAt: string;
}

export interface TimelineState {
  messages: ChatMessageResponse[];
  live: { episode: string | null; blocks: LiveBlock[] };
  status: ChatStatus | null;
  queue: ChatQueuedMessageResponse[];
  retry: RetryNotice | null;
  error: string | null;
  /** Counts `message` events that re-sent old history; the view reloads once they stop coming. */
  replays: number;
}

export const emptyTimeline: TimelineState = {
  messages: [],
  live: { episode: null, blocks: [] },
  status: null,
  queue: [],
  retry: null,
  error: null,
  replays: 0,
};

const noLive = { episode: null, blocks: [] };

/** Adds or replaces messages, keeping id order (older pages and the stream both come here). */
export function mergeMessages(existing: readonly ChatMessageResponse[], incoming: readonly ChatMessageResponse[]): ChatMessageResponse[] {
  const byId = new Map(existing.map((message) => [message.id, message]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function appendPart(blocks: readonly LiveBlock[], part: ChatMessagePart): LiveBlock[] {
  const next = [...blocks];
  const last = next[next.length - 1];
  switch (part.type) {
    case "text":
    case "reasoning": {
      const text = part.text ?? "";
      if (last && last.kind === part.type) next[next.length - 1] = { kind: last.kind, text: last.text + text };
      else next.push({ kind: part.type, text });
      return next;
    }
    case "tool-call": {
      const id = part.tool_call_id ?? "";
      const index = next.findIndex((block) => block.kind === "tool" && block.toolCallId === id);
      const found = index === -1 ? undefined : next[index];
      const current = found && found.kind === "tool" ? found : { kind: "tool" as const, toolCallId: id, toolName: part.tool_name ?? "", argsText: "" };
      const updated: LiveBlock =
        part.args !== undefined
          ? { ...current, toolName: part.tool_name ?? current.toolName, args: part.args, argsText: JSON.stringify(part.args) }
          : { ...current, toolName: part.tool_name ?? current.toolName, argsText: current.argsText + (part.args_delta ?? "") };
      if (index === -1) next.push(updated);
      else next[index] = updated;
      return next;
    }
    case "tool-result": {
      const id = part.tool_call_id ?? "";
      const index = next.findIndex((block) => block.kind === "tool" && block.toolCallId === id);
      const found = index === -1 ? undefined : next[index];
      if (found && found.kind === "tool") next[index] = { ...found, result: part };
      else next.push({ kind: "tool", toolCallId: id, toolName: part.tool_name ?? "", argsText: "", result: part });
      return next;
    }
    case "source":
      next.push({ kind: "source", part });
      return next;
    default:
      return next;
  }
}

export function applyStreamEvent(state: TimelineState, event: StreamEvent): TimelineState {
  switch (event.type) {
    case "status": {
      const status = event.status.status;
      const settled = status !== "running" && status !== "pending";
      return {
        ...state,
        status,
        // A settled chat has no live step; a new run clears the last run's retry and error notes.
        live: settled ? noLive : state.live,
        retry: settled || status === "running" ? null : state.retry,
        error: status === "running" || status === "pending" ? null : state.error,
      };
    }
    case "message": {
      const message = event.message;
      const newest = state.messages[state.messages.length - 1];
      if (newest && message.id <= newest.id) {
        return { ...state, replays: state.replays + 1 };
      }
      const persistedStep = message.role === "assistant" || message.role === "tool";
      return {
        ...state,
        messages: mergeMessages(state.messages, [message]),
        live: persistedStep ? noLive : state.live,
        retry: persistedStep ? null : state.retry,
      };
    }
    case "message_part": {
      const { episode, part } = event.message_part;
      const blocks = state.live.episode === episode ? state.live.blocks : [];
      return { ...state, live: { episode, blocks: appendPart(blocks, part) }, retry: null };
    }
    case "preview_reset":
      return { ...state, live: { episode: event.preview_reset.episode, blocks: [] } };
    case "queue_update":
      return { ...state, queue: event.queued_messages };
    case "retry":
      return {
        ...state,
        live: noLive,
        retry: { attempt: event.retry.attempt, delayMs: event.retry.delay_ms, error: event.retry.error, retryingAt: event.retry.retrying_at },
      };
    case "error":
      return { ...state, error: event.error.message, retry: null };
  }
}

/** A reload from the API: the newest page replaces what was held (history may have shrunk). */
export function replaceHistory(state: TimelineState, messages: readonly ChatMessageResponse[], queue: readonly ChatQueuedMessageResponse[]): TimelineState {
  return { ...state, messages: mergeMessages([], messages), queue: [...queue] };
}

/** What the chat's loaded messages cost, in micro-dollars (unpriced steps count as nothing). */
export function totalCostMicros(messages: readonly ChatMessageResponse[]): number {
  return messages.reduce((sum, message) => sum + (message.total_cost_micros ?? 0), 0);
}
