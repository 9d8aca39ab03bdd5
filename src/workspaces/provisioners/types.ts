/**
 * The provisioner contract. A provisioner turns a build's transition into effects on the world
 * (directories, processes, whatever an admin's command does); the runtime owns the database
 * rows, the build log and the build's status around it.
 *
 * Invariants:
 * - Each method resolves when the transition is done and throws (an Error whose message becomes
 *   the build's `error`) when it failed. It stops promptly when `signal` aborts.
 * - `start` receives fresh agent credentials; the token is handed to the agent and never logged.
 * - `destroy` leaves nothing running; the runtime marks the workspace deleted afterwards.
 */
import type { TemplateRow } from "../templates.js";
import type { ParameterValues } from "../../sdk/schemas/workspaces.js";

export interface ProvisionOwner {
  id: string;
  username: string;
  name: string;
  email: string;
}

export interface AgentProcessRecord {
  agentId: string;
  pid: number;
}

export interface ProvisionContext {
  workspace: { id: string; name: string };
  owner: ProvisionOwner;
  template: TemplateRow;
  parameters: ParameterValues;
  buildId: string;
  /** Appends to the build log (capped, stored as it arrives). */
  log(text: string): void;
  /** The URL agents dial. */
  serverUrl: string;
  /** Start builds only: the agent the build issued and its token. */
  agent?: { id: string; token: string };
  /** True until a start build of this workspace has succeeded once (setup scripts run then). */
  firstStart: boolean;
  signal: AbortSignal;
  /** Records (or clears, with null) the OS process of an agent, for stop from any replica. */
  setAgentPid(agentId: string, pid: number | null): Promise<void>;
  /** This workspace's agents that have a recorded process, newest first. */
  agentProcesses(): Promise<AgentProcessRecord[]>;
}

export interface Provisioner {
  start(ctx: ProvisionContext): Promise<void>;
  stop(ctx: ProvisionContext): Promise<void>;
  destroy(ctx: ProvisionContext): Promise<void>;
}
