/**
 * What the provisioning tools need from workspaces/ (templates, workspaces, builds), as plain
 * data. The server adapts the workspace service to it, so the tools can be read, and tested,
 * without the provisioners behind them.
 */
import type { TemplateParameter } from "../../../workspaces/parameters.js";
import type { ParameterValues } from "../../../sdk/schemas/workspaces.js";

export interface BuildState {
  id: string;
  transition: "start" | "stop" | "delete";
  status: "pending" | "running" | "succeeded" | "failed" | "canceled";
  error: string | null;
  /** The last lines of the build log, for a failure report. */
  logTail?: string;
}

export interface WorkspaceState {
  id: string;
  name: string;
  deleted: boolean;
  latestBuild: BuildState | undefined;
}

export interface TemplateSummary {
  id: string;
  name: string;
  displayName: string;
  description: string;
  activeDevelopers: number;
}

export interface WorkspaceProvisioning {
  listTemplates(ownerId: string, input: { query?: string; page: number }): Promise<{ templates: TemplateSummary[]; page: number; totalPages: number; totalCount: number }>;
  /** Undefined when the template does not exist, is deleted, or the id is malformed. */
  readTemplate(ownerId: string, templateId: string): Promise<(TemplateSummary & { parameters: TemplateParameter[] }) | undefined>;
  /** Creates the workspace as `ownerId` and starts its first build; bad input throws with a message for the model. */
  createWorkspace(ownerId: string, input: { templateId: string; name?: string; parameters: ParameterValues }): Promise<{ workspaceId: string; name: string; build: BuildState }>;
  startWorkspace(workspaceId: string, initiatorId: string): Promise<BuildState>;
  workspaceState(workspaceId: string): Promise<WorkspaceState | undefined>;
  waitForBuild(buildId: string, options: { signal: AbortSignal; timeoutMs: number }): Promise<BuildState>;
}
