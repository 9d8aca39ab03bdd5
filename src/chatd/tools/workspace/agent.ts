/** How a workspace tool reaches the chat's agent, and the dependencies the workspace tools share. */
import { eq } from "drizzle-orm";
import type { Database } from "../../../db/client.js";
import { chats } from "../../../db/schema/index.js";
import { ancestorChatIds } from "../../../chats/tree.js";
import type { AgentDirectory, WorkspaceAgentClient } from "../../../workspaces/agent-conn/directory.js";
import { AgentCallError, AgentUnavailableError } from "../../../workspaces/agent-conn/errors.js";
import type { WorkspaceProvisioning } from "./provisioner-port.js";
import { toolError, type ToolContext, type ToolOutput } from "../registry.js";

export interface WorkspaceToolDeps {
  db: Database;
  agents: AgentDirectory;
  workspaces: WorkspaceProvisioning;
}

/** The reference's wording when a workspace tool runs in a chat without one. */
export const NO_WORKSPACE_ERROR = "chat has no workspace";

/** A tool failure the workspace tools raise and `workspaceToolOutput` turns into a result. */
export class WorkspaceToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkspaceToolError";
  }
}

/** The agent of the chat's workspace as of now, bound to the chat. */
export async function agentForChat(deps: Pick<WorkspaceToolDeps, "db" | "agents">, context: ToolContext): Promise<WorkspaceAgentClient> {
  const [chat] = await deps.db
    .select({ workspaceId: chats.workspaceId, parentChatId: chats.parentChatId })
    .from(chats)
    .where(eq(chats.id, context.chatId));
  if (!chat?.workspaceId) throw new WorkspaceToolError(NO_WORKSPACE_ERROR);
  const ancestors = await ancestorChatIds(deps.db, chat.parentChatId);
  return deps.agents.forWorkspace(chat.workspaceId, { chat_id: context.chatId, ancestor_chat_ids: ancestors });
}

/** Runs a workspace tool body, turning the expected failures into error results for the model. */
export async function workspaceToolOutput(body: () => Promise<unknown>): Promise<ToolOutput> {
  try {
    return { result: await body() };
  } catch (error) {
    if (error instanceof WorkspaceToolError || error instanceof AgentCallError) return toolError(error.message);
    if (error instanceof AgentUnavailableError) return toolError(`workspace agent unavailable: ${error.message}`);
    throw error;
  }
}
