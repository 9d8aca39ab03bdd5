/**
 * The one error type agent handlers throw on purpose. Its code travels to the server in the
 * response frame (protocol.ts AGENT_ERROR_CODES); any other throw is reported as `internal`.
 */
import type { AgentErrorBody } from "./protocol.js";

export type AgentErrorCode = AgentErrorBody["code"];

export class AgentError extends Error {
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string) {
    super(message);
    this.name = "AgentError";
    this.code = code;
  }
}

export function badRequest(message: string): AgentError {
  return new AgentError("bad_request", message);
}

export function notFound(message: string): AgentError {
  return new AgentError("not_found", message);
}

/** The errno code of a Node system error (ENOENT, ESRCH, ...), if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
