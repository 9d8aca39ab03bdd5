/** `read_file`, `write_file`, `edit_files`: file access in the workspace through its agent. */
import { z } from "zod";
import { fileEditSchema } from "../../../agent/protocol.js";
import { defineTool, type ChatTool } from "../registry.js";
import { agentForChat, workspaceToolOutput, type WorkspaceToolDeps } from "./agent.js";

/** Writing a file is a bigger call than a question: give slow disks and large files time. */
const FILE_CALL_TIMEOUT_MS = 60_000;

export function fileTools(deps: WorkspaceToolDeps): ChatTool[] {
  const read = defineTool({
    name: "read_file",
    description:
      "Read a text file in the workspace, with line numbers. Use offset (1-based line) and limit (lines, default 2000) to page through large files; long lines are cut.",
    inputSchema: z.object({
      path: z.string().min(1).describe("Absolute, or relative to the project directory."),
      offset: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(2000).optional(),
    }),
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        return agent.call("file.read", input, { signal: context.signal });
      }),
  });

  const write = defineTool({
    name: "write_file",
    description: "Create or overwrite a file in the workspace with the given content (parent directories are created). To change part of a file, use edit_files.",
    inputSchema: z.object({ path: z.string().min(1), content: z.string() }),
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        return agent.call("file.write", input, { signal: context.signal, timeoutMs: FILE_CALL_TIMEOUT_MS });
      }),
  });

  const edit = defineTool({
    name: "edit_files",
    description:
      "Edit files by search and replace. Each search string must match exactly once unless replace_all is set; each file's edits apply together or not at all.",
    inputSchema: z.object({ files: z.array(z.object({ path: z.string().min(1), edits: z.array(fileEditSchema).min(1) })).min(1) }),
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        return agent.call("file.edit", input, { signal: context.signal, timeoutMs: FILE_CALL_TIMEOUT_MS });
      }),
  });

  return [read, write, edit];
}
