/** What calls to a workspace agent can fail with, and the per-call context they carry. */
import type { AGENT_ERROR_CODES } from "../../agent/protocol.js";

/** The chat a call acts for: processes are scoped to it, and its git watch follows its paths. */
export interface AgentCallContext {
  chat_id?: string;
  ancestor_chat_ids?: string[];
}

/** The agent answered with an error (bad path, unknown process, …): the tool reports it as is. */
export class AgentCallError extends Error {
  constructor(
    readonly code: (typeof AGENT_ERROR_CODES)[number],
    message: string,
  ) {
    super(message);
    this.name = "AgentCallError";
  }
}

/** No agent answered: not connected, disconnected mid-call, or too slow. */
export class AgentUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentUnavailableError";
  }
}

export interface AgentStream {
  /** Asks for a rescan now (the agent rate-limits it). */
  refresh(): Promise<void>;
  /** Ends the stream; safe to call more than once. */
  close(): void;
}
