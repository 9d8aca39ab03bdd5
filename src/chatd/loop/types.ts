/**
 * The loop's contracts: what a run needs (its dependencies and its control), what it reads
 * (history) and how it ends. Kept apart from `run.ts` so the step, compaction and history modules
 * depend on these types without importing the loop that calls them.
 */
import type { ModelMessage } from "ai";
import type { Database } from "../../db/client.js";
import type { ChatHints } from "../../chats/hints.js";
import type { Logger } from "../../observability/logger.js";
import type { ChatMetrics } from "../../observability/chat-metrics.js";
import type { Lease } from "../../chats/state.js";
import type { ChatRow } from "../../chats/store.js";
import type { ChatEventHub } from "../events.js";
import type { ChatTool, ToolRegistry } from "../tools/registry.js";
import type { PromptMessageRow } from "../prompt/assemble.js";

export type StopCause = "interrupt" | "shutdown";

export type RunEnd =
  | { status: "waiting" }
  | { status: "error"; error: string }
  | { status: "pending"; reason: "shutdown" }
  /** The worker lost the chat (edited, promoted, re-acquired elsewhere): nothing more to write. */
  | { status: "lost" };

export interface PromptSource {
  /** The model prompt for the chat's current history. */
  build(chat: ChatRow, history: HistoryMessage[]): Promise<ModelMessage[]>;
}

/** A stored message as the loop and prompt assembly read it. */
export type HistoryMessage = PromptMessageRow;

export interface RunDependencies {
  db: Database;
  hints: ChatHints;
  hub: ChatEventHub;
  tools: ToolRegistry;
  prompt: PromptSource;
  /**
   * Tools found when the run starts (MCP servers' tools), merged into the static offer; a name
   * the registry already has keeps the registry's tool. `notices` name what was skipped: the
   * first stored step shows them to the user and the model.
   */
  dynamicTools?: (chat: ChatRow) => Promise<{ tools: ChatTool[]; notices: string[] }>;
  /** Base of the retry backoff (tests shorten it). */
  retryBaseDelayMs?: number;
  log?: Logger;
  /** Step and tool-call durations go here (observability/chat-metrics.ts). */
  metrics?: ChatMetrics;
}

export interface RunControl {
  signal: AbortSignal;
  /** This run's lease: every write is checked against it. */
  lease: Lease;
  /** Why the signal was aborted; read only after it is. */
  cause(): StopCause;
  /** The run's logger: every line carries chat_id and run_id. */
  log?: Logger;
}

