/** Every workspace tool, in the order the model sees them (README.md has the rules). */
import type { ChatTool } from "../registry.js";
import type { WorkspaceToolDeps } from "./agent.js";
import { executeTools } from "./execute.js";
import { fileTools } from "./files.js";
import { processTools } from "./processes.js";
import { provisioningTools } from "./provisioning.js";

export type { WorkspaceToolDeps } from "./agent.js";

export function workspaceTools(deps: WorkspaceToolDeps): ChatTool[] {
  return [...executeTools(deps), ...processTools(deps), ...fileTools(deps), ...provisioningTools(deps)];
}
