/** `process_list` and `process_signal`: the chat's processes on the agent (behavior.md section 6). */
import { z } from "zod";
import { processSignalSchema } from "../../../agent/protocol.js";
import { defineTool, type ChatTool } from "../registry.js";
import { agentForChat, workspaceToolOutput, type WorkspaceToolDeps } from "./agent.js";

export function processTools(deps: WorkspaceToolDeps): ChatTool[] {
  const list = defineTool({
    name: "process_list",
    description: "List this chat's processes in the workspace (running ones first, then the most recent), with their ids and exit codes.",
    inputSchema: z.object({}),
    execute: (_input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        return agent.call("process.list", {}, { signal: context.signal });
      }),
  });

  const signal = defineTool({
    name: "process_signal",
    description: "Stop a process started by execute: terminate (SIGTERM, lets it clean up) or kill (SIGKILL). The signal goes to its whole process group.",
    inputSchema: z.object({ process_id: z.string().min(1), signal: processSignalSchema }),
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        const answer = await agent.call("process.signal", { id: input.process_id, signal: input.signal }, { signal: context.signal });
        return { success: true, message: answer.message };
      }),
  });

  return [list, signal];
}
