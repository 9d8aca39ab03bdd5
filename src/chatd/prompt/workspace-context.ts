/**
 * The `<workspace-context>` block (behavior.md section 5, item 5): the agent's operating system,
 * working directory and instruction files (`~/.chatd/AGENTS.md`, `<dir>/AGENTS.md`), read through
 * the agent and cached per agent for a few minutes. A missing or slow agent yields no block: the
 * prompt is never delayed past the read timeout nor failed by it.
 */
import type { AgentInstructions } from "../../agent/protocol.js";
import type { AgentDirectory } from "../../workspaces/agent-conn/directory.js";
import type { Logger } from "../../observability/logger.js";
import { describeError } from "../../llm/retry.js";

/** Instruction files change rarely; re-reading them on every step would cost an agent round trip. */
export const WORKSPACE_CONTEXT_TTL_MS = 5 * 60_000;
/** The reference gives the read 5 s. */
export const WORKSPACE_CONTEXT_TIMEOUT_MS = 5_000;
/** Bounds the cache when many workspaces come and go. */
const MAX_CACHED_AGENTS = 1000;

export function renderWorkspaceContext(instructions: AgentInstructions): string {
  const lines = [`Operating System: ${instructions.os}`, `Working Directory: ${instructions.directory}`];
  for (const file of instructions.files) {
    lines.push("", `Source: ${file.path}`, file.content + (file.truncated ? "\n(truncated to 64KiB)" : ""));
  }
  return lines.join("\n");
}

export class WorkspaceContextSource {
  readonly #cache = new Map<string, { text: string; expires: number }>();

  constructor(
    private readonly directory: AgentDirectory,
    private readonly log: Logger,
  ) {}

  async forChat(chatId: string, workspaceId: string | null, ancestors: string[]): Promise<string | undefined> {
    if (!workspaceId) return undefined;
    try {
      const agent = await this.directory.forWorkspace(workspaceId, { chat_id: chatId, ancestor_chat_ids: ancestors });
      const cached = this.#cache.get(agent.agent.id);
      if (cached && cached.expires > Date.now()) return cached.text;
      const instructions = await agent.call("instructions.read", {}, { timeoutMs: WORKSPACE_CONTEXT_TIMEOUT_MS });
      const text = renderWorkspaceContext(instructions);
      if (this.#cache.size >= MAX_CACHED_AGENTS) this.#cache.clear();
      this.#cache.set(agent.agent.id, { text, expires: Date.now() + WORKSPACE_CONTEXT_TTL_MS });
      return text;
    } catch (error) {
      this.log.debug({ chat_id: chatId, workspace_id: workspaceId, error: describeError(error) }, "workspace context unavailable");
      return undefined;
    }
  }
}
