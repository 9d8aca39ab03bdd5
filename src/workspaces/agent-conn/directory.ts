/**
 * Finds a workspace's agent from any replica. The agent is always the one of the workspace's
 * latest build (never an id stored on a chat), and it is reached either on this replica's socket
 * or, when another replica holds the socket, through that replica's internal forwarding endpoint
 * (forward.ts). A forwarded call that finds the agent gone triggers one fresh lookup, because the
 * agent may have just reconnected elsewhere.
 */
import type { Database } from "../../db/client.js";
import type { Pubsub } from "../../pubsub/pubsub.js";
import type { AgentMethod, AgentParams, AgentResult, GitWatchMessage } from "../../agent/protocol.js";
import { latestAgent, type AgentRow } from "../agents.js";
import type { AgentConnections } from "./connections.js";
import { AgentUnavailableError, type AgentCallContext, type AgentStream } from "./errors.js";
import { ForwardingClient } from "./forward.js";
import { workspaceChannel } from "../builds.js";
import type { VncStream, VncStreamHandlers } from "./vnc.js";
import { channelWaiter } from "../../pubsub/waiter.js";

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** One workspace's agent, bound to the chat the calls act for. */
export interface WorkspaceAgentClient {
  readonly agent: AgentRow;
  call<M extends AgentMethod>(method: M, params: AgentParams<M>, options?: CallOptions): Promise<AgentResult<M>>;
  openGitWatch(onMessage: (message: GitWatchMessage) => void): Promise<AgentStream>;
  /** A byte stream to the desktop's VNC server; `onData` may fire before it resolves. */
  openDesktopVnc(handlers: VncStreamHandlers, options?: { timeoutMs?: number }): Promise<VncStream>;
}

export interface AgentDirectoryDeps {
  db: Database;
  pubsub: Pubsub;
  connections: AgentConnections;
  replicaId: string;
  /** Present when other replicas can exist (PostgreSQL); forwarding needs it. */
  forwarding?: ForwardingClient;
  /** Told of every call's round trip as the caller saw it (local or forwarded), for metrics. */
  observeCall?: (method: string, seconds: number, outcome: "ok" | "error" | "unavailable") => void;
}

/** How long `waitForAgent` gives one reachability check (behavior.md: 5 s per attempt). */
export const AGENT_PROBE_TIMEOUT_MS = 5_000;
/** Fallback re-check while waiting, in case a pubsub hint was missed (behavior.md: retry 2 s). */
const AGENT_WAIT_RECHECK_MS = 2_000;

export class AgentDirectory {
  constructor(private readonly deps: AgentDirectoryDeps) {}

  /** The workspace's agent as it stands now; AgentUnavailableError when none is connected. */
  async forWorkspace(workspaceId: string, context: AgentCallContext): Promise<WorkspaceAgentClient> {
    const agent = await latestAgent(this.deps.db, workspaceId);
    if (!agent) throw new AgentUnavailableError("the workspace has no agent: it is stopped or has not finished building");
    if (!agent.replicaId) throw new AgentUnavailableError("the workspace agent is not connected");
    return this.#client(agent, context, true);
  }

  #client(agent: AgentRow, context: AgentCallContext, mayRelookup: boolean): WorkspaceAgentClient {
    const { connections, forwarding, replicaId } = this.deps;
    const local = agent.replicaId === replicaId;
    const relookup = async (): Promise<WorkspaceAgentClient | undefined> => {
      if (!mayRelookup) return undefined;
      const fresh = await latestAgent(this.deps.db, agent.workspaceId);
      if (!fresh?.replicaId || (fresh.id === agent.id && fresh.replicaId === agent.replicaId)) return undefined;
      return this.#client(fresh, context, false);
    };
    const call: WorkspaceAgentClient["call"] = async (method, params, options = {}) => {
      try {
        if (local) return await connections.call(agent.id, method, params, context, options);
        if (!forwarding || !agent.replicaId) throw new AgentUnavailableError("the workspace agent is connected to another replica, which this one cannot reach");
        return await forwarding.call(agent.replicaId, agent.id, method, params, context, options);
      } catch (error) {
        if (!(error instanceof AgentUnavailableError)) throw error;
        const retry = await relookup();
        if (!retry) throw error;
        return retry.call(method, params, options);
      }
    };
    const observe = this.deps.observeCall;
    return {
      agent,
      // Observed once per call as the caller saw it, a re-lookup included (the retry's own client
      // is made with mayRelookup false, so it is not counted twice).
      call: async (method, params, options = {}) => {
        if (!observe || !mayRelookup) return call(method, params, options);
        const started = performance.now();
        let outcome: "ok" | "error" | "unavailable" = "ok";
        try {
          return await call(method, params, options);
        } catch (error) {
          outcome = error instanceof AgentUnavailableError ? "unavailable" : "error";
          throw error;
        } finally {
          observe(method, (performance.now() - started) / 1000, outcome);
        }
      },
      openGitWatch: async (onMessage) => {
        if (local) return connections.openGitWatch(agent.id, context, onMessage);
        if (!forwarding || !agent.replicaId) throw new AgentUnavailableError("the workspace agent is connected to another replica, which this one cannot reach");
        return forwarding.openGitWatch(agent.replicaId, agent.id, context, onMessage);
      },
      openDesktopVnc: async (handlers, options = {}) => {
        if (local) return connections.openDesktopVnc(agent.id, context, handlers, options);
        if (!forwarding || !agent.replicaId) throw new AgentUnavailableError("the workspace agent is connected to another replica, which this one cannot reach");
        return forwarding.openDesktopVnc(agent.replicaId, agent.id, context, handlers, options);
      },
    };
  }

  /**
   * Waits until the workspace's current agent answers a ping, or `timeoutMs` passes. Wakes on the
   * workspace's pubsub channel (agent connected, build finished), with a slow re-check as backstop.
   */
  async waitForAgent(workspaceId: string, options: { signal?: AbortSignal; timeoutMs: number }): Promise<WorkspaceAgentClient> {
    const deadline = Date.now() + options.timeoutMs;
    const waiter = await channelWaiter(this.deps.pubsub, workspaceChannel(workspaceId));
    let lastError: unknown = new AgentUnavailableError("the workspace agent did not connect in time");
    try {
      while (Date.now() < deadline) {
        options.signal?.throwIfAborted();
        try {
          const client = await this.forWorkspace(workspaceId, {});
          await client.call("ping", {}, { timeoutMs: Math.min(AGENT_PROBE_TIMEOUT_MS, Math.max(1, deadline - Date.now())), ...(options.signal ? { signal: options.signal } : {}) });
          return client;
        } catch (error) {
          if (!(error instanceof AgentUnavailableError)) throw error;
          lastError = error;
        }
        await waiter.wait(Math.min(AGENT_WAIT_RECHECK_MS, deadline - Date.now()), options.signal);
      }
      throw lastError;
    } finally {
      await waiter.close();
    }
  }
}
