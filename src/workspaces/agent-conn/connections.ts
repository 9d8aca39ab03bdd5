/**
 * The agent sockets this replica holds, and RPC over them (protocol: agent/protocol.ts).
 *
 * Invariants:
 * - An agent is callable here only after its `hello`; only then is `workspace_agents.replica_id`
 *   set to this replica, so other replicas forward to us exactly when we can serve.
 * - One live link per agent on this replica: a newer socket replaces the older one, and the older
 *   one's close then changes nothing (neither the map nor the row).
 * - Closing a link fails every call in flight on it at once (AgentUnavailableError) and ends its
 *   streams (git watches and VNC streams); a call never hangs past its own deadline.
 * - A VNC stream's calls go to the link that opened it, never to a newer one: the agent ties its
 *   bridge to the session (connection) that opened it.
 * - Every change of connection state is published on `workspace:<id>` so waiters (create_workspace,
 *   start_workspace) wake without polling.
 */
import { and, eq, sql } from "drizzle-orm";
import type { WSContext } from "hono/ws";
import type { Database } from "../../db/client.js";
import { workspaceAgents } from "../../db/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { Pubsub } from "../../pubsub/pubsub.js";
import {
  agentResultSchema,
  AGENT_PROTOCOL_VERSION,
  PROTOCOL_MISMATCH_CLOSE_CODE,
  agentToServerFrame,
  AGENT_PING_INTERVAL_MS,
  AGENT_SILENCE_TIMEOUT_MS,
  type AgentMethod,
  type AgentParams,
  type AgentResult,
  type GitWatchMessage,
  type RequestFrame,
} from "../../agent/protocol.js";
import type { AgentRow } from "../agents.js";
import { safeJson } from "../../util/parse.js";
import { AgentCallError, AgentUnavailableError, type AgentCallContext, type AgentStream } from "./errors.js";
import { workspaceChannel, type WorkspaceEvent } from "../builds.js";
import { LinkVncStreams, type VncCall, type VncStream, type VncStreamHandlers } from "./vnc.js";

/** An agent that opens a socket but never says hello is dropped after this. */
export const AGENT_HELLO_TIMEOUT_MS = 10_000;
/** Default deadline of one call; process.output's own wait is added on top by the caller. */
export const AGENT_CALL_TIMEOUT_MS = 30_000;
/** Shutdown gives agents this long to complete the close handshake before their sockets are cut. */
const CLOSE_WAIT_MS = 2_000;
/** Heartbeat writes are throttled: the ping interval already bounds how stale the row can be. */
const HEARTBEAT_WRITE_INTERVAL_MS = AGENT_PING_INTERVAL_MS;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface RawSocket {
  ping(): void;
  terminate(): void;
  on(event: "pong", listener: () => void): void;
}

function rawSocket(raw: unknown): RawSocket | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  if (!("ping" in raw) || !("terminate" in raw) || !("on" in raw)) return undefined;
  const { ping, terminate, on } = raw;
  if (typeof ping !== "function" || typeof terminate !== "function" || typeof on !== "function") return undefined;
  return {
    ping: () => ping.call(raw),
    terminate: () => terminate.call(raw),
    on: (event, listener) => on.call(raw, event, listener),
  };
}

class AgentLink {
  readonly pending = new Map<number, Pending>();
  readonly streams = new Map<string, (message: GitWatchMessage) => void>();
  readonly vnc: LinkVncStreams;
  nextId = 1;
  ready = false;
  closed = false;
  lastHeard = Date.now();
  constructor(
    readonly agent: AgentRow,
    readonly ws: WSContext,
    /** Asks the agent, on this very link, to drop a VNC bridge nobody here reads. */
    closeVnc: (link: AgentLink, streamId: string) => Promise<unknown>,
  ) {
    this.vnc = new LinkVncStreams((streamId) => closeVnc(this, streamId));
  }

  send(frame: RequestFrame): void {
    this.ws.send(JSON.stringify(frame));
  }
}

export interface AgentConnectionsDeps {
  db: Database;
  pubsub: Pubsub;
  log: Logger;
  replicaId: string;
}

export class AgentConnections {
  readonly #live = new Map<string, AgentLink>();
  readonly #all = new Set<AgentLink>();
  /** Disconnect bookkeeping still writing; shutdown waits for it while the database is open. */
  readonly #closing = new Set<Promise<void>>();
  /** Set by closeAll: called when the last socket has closed. */
  #onDrained: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly deps: AgentConnectionsDeps) {
    this.#timer = setInterval(() => this.#tick(), AGENT_PING_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Whether `agentId`'s socket is here and has said hello. */
  has(agentId: string): boolean {
    return this.#live.get(agentId)?.ready === true;
  }

  count(): number {
    return this.#live.size;
  }

  /** Socket handlers for an authenticated agent's upgrade. */
  accept(agent: AgentRow): { onOpen(ws: WSContext): void; onMessage(data: unknown): void; onClose(): void } {
    let link: AgentLink | undefined;
    let helloTimer: NodeJS.Timeout | undefined;
    return {
      onOpen: (ws) => {
        const opened = new AgentLink(agent, ws, (owner, streamId) => this.#callOn(owner, "desktop.vnc.close", { stream_id: streamId }, {}));
        link = opened;
        this.#all.add(opened);
        rawSocket(ws.raw)?.on("pong", () => {
          opened.lastHeard = Date.now();
        });
        helloTimer = setTimeout(() => {
          if (!opened.ready) ws.close(4000, "no hello");
        }, AGENT_HELLO_TIMEOUT_MS);
      },
      onMessage: (data) => {
        if (link) this.#onFrame(link, typeof data === "string" ? data : String(data));
      },
      onClose: () => {
        clearTimeout(helloTimer);
        if (!link || link.closed) return;
        const closing = this.#onClose(link);
        this.#closing.add(closing);
        void closing.finally(() => this.#closing.delete(closing));
      },
    };
  }

  /** Calls `method` on the agent held here; rejects with AgentUnavailableError if it is not. */
  async call<M extends AgentMethod>(
    agentId: string,
    method: M,
    params: AgentParams<M>,
    context: AgentCallContext,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<AgentResult<M>> {
    const raw = await this.callRaw(agentId, method, params, context, options);
    const parsed = agentResultSchema(method).safeParse(raw);
    if (!parsed.success) throw new AgentCallError("internal", `the agent answered ${method} with an unexpected result`);
    return parsed.data;
  }

  /** As `call`, without validating the result (the forwarding endpoint relays it as it came). */
  callRaw(agentId: string, method: string, params: unknown, context: AgentCallContext, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
    const link = this.#live.get(agentId);
    if (!link?.ready) return Promise.reject(new AgentUnavailableError("the workspace agent is not connected to this replica"));
    return this.#callOn(link, method, params, context, options);
  }

  #callOn(link: AgentLink, method: string, params: unknown, context: AgentCallContext, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<unknown> {
    if (link.closed) return Promise.reject(new AgentUnavailableError("the workspace agent disconnected"));
    const id = link.nextId++;
    const timeoutMs = options.timeoutMs ?? AGENT_CALL_TIMEOUT_MS;
    return new Promise<unknown>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        link.pending.delete(id);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new AgentUnavailableError(`the workspace agent did not answer ${method} within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      const onAbort = () => {
        finish();
        reject(new AgentCallError("internal", "the call was cancelled"));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      link.pending.set(id, {
        resolve: (result) => {
          finish();
          resolve(result);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      link.send({ type: "request", id, method, params, ...context });
    });
  }

  /** Opens a git watch for `context.chat_id`; messages go to `onMessage` until closed. */
  async openGitWatch(agentId: string, context: AgentCallContext, onMessage: (message: GitWatchMessage) => void): Promise<AgentStream> {
    const link = this.#live.get(agentId);
    if (!link?.ready) throw new AgentUnavailableError("the workspace agent is not connected to this replica");
    const streamId = crypto.randomUUID();
    link.streams.set(streamId, onMessage);
    try {
      await this.call(agentId, "git.watch.start", { stream_id: streamId }, context);
    } catch (error) {
      link.streams.delete(streamId);
      throw error;
    }
    return {
      refresh: async () => {
        await this.call(agentId, "git.watch.refresh", { stream_id: streamId }, context);
      },
      close: () => {
        if (!link.streams.delete(streamId)) return;
        this.call(agentId, "git.watch.stop", { stream_id: streamId }, context).catch(() => undefined);
      },
    };
  }

  /**
   * Opens a byte stream to the desktop's VNC server (the agent starts the desktop if needed).
   * x11vnc's bytes go to `handlers.onData` in order, possibly before this resolves.
   */
  async openDesktopVnc(agentId: string, context: AgentCallContext, handlers: VncStreamHandlers, options: { timeoutMs?: number } = {}): Promise<VncStream> {
    const link = this.#live.get(agentId);
    if (!link?.ready) throw new AgentUnavailableError("the workspace agent is not connected to this replica");
    const call: VncCall = async (method, params, callOptions) => {
      const parsed = agentResultSchema(method).safeParse(await this.#callOn(link, method, params, context, callOptions));
      if (!parsed.success) throw new AgentCallError("internal", `the agent answered ${method} with an unexpected result`);
      return parsed.data;
    };
    return link.vnc.open(call, handlers, options);
  }

  /** VNC streams the agent still holds for this replica's link (open, or closing and not yet confirmed). */
  vncStreamCount(agentId: string): number {
    return this.#live.get(agentId)?.vnc.size ?? 0;
  }

  /**
   * Drops every agent socket (shutdown; the agents redial another replica) and waits until each
   * disconnect is recorded, so no row keeps naming this replica as the holder.
   */
  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    for (const link of this.#all) link.ws.close(1001, "server shutting down");
    // Close frames take a round trip; an agent that never answers is cut at the deadline.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#onDrained = resolve;
        if (this.#all.size === 0) resolve();
      }),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    for (const link of this.#all) rawSocket(link.ws.raw)?.terminate();
    await Promise.all([...this.#closing]);
  }

  #onFrame(link: AgentLink, text: string): void {
    link.lastHeard = Date.now();
    const parsed = agentToServerFrame.safeParse(safeJson(text));
    if (!parsed.success) {
      this.deps.log.warn({ agent_id: link.agent.id }, "agent sent a frame that does not match the protocol");
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case "hello":
        if (frame.protocol !== AGENT_PROTOCOL_VERSION) {
          // An agent from another chatd version would misread requests: refuse it plainly.
          this.deps.log.warn({ agent_id: link.agent.id, protocol: frame.protocol, version: frame.version }, "workspace agent speaks another protocol version");
          link.ws.close(PROTOCOL_MISMATCH_CLOSE_CODE, `unsupported agent protocol ${frame.protocol}; this server speaks ${AGENT_PROTOCOL_VERSION}`);
          return;
        }
        if (!link.ready) void this.#onHello(link, frame);
        return;
      case "response": {
        const pending = link.pending.get(frame.id);
        if (!pending) return;
        if (frame.ok) pending.resolve(frame.result);
        else pending.reject(new AgentCallError(frame.error.code, frame.error.message));
        return;
      }
      case "stream":
        link.streams.get(frame.stream_id)?.(frame.data);
        return;
      case "vnc":
        link.vnc.deliver(frame);
        return;
    }
  }

  async #onHello(link: AgentLink, hello: { version: string; os: string; directory: string }): Promise<void> {
    const previous = this.#live.get(link.agent.id);
    // Callable here at once; other replicas find it once the row below names this replica.
    link.ready = true;
    this.#live.set(link.agent.id, link);
    if (previous && previous !== link) previous.ws.close(4001, "replaced by a newer connection");
    try {
      await this.deps.db
        .update(workspaceAgents)
        .set({
          replicaId: this.deps.replicaId,
          version: hello.version,
          operatingSystem: hello.os,
          directory: hello.directory,
          firstConnectedAt: sql`coalesce(${workspaceAgents.firstConnectedAt}, now())`,
          lastConnectedAt: sql`now()`,
          lastHeartbeatAt: sql`now()`,
          disconnectedAt: null,
        })
        .where(eq(workspaceAgents.id, link.agent.id));
    } catch (error) {
      this.deps.log.warn({ err: error, agent_id: link.agent.id }, "recording the agent connection failed");
      link.ws.close(1011, "could not record the connection");
      return;
    }
    if (link.closed) return;
    this.deps.log.info({ agent_id: link.agent.id, workspace_id: link.agent.workspaceId, version: hello.version }, "workspace agent connected");
    await this.#announce(link.agent, true);
  }

  async #onClose(link: AgentLink): Promise<void> {
    link.closed = true;
    this.#all.delete(link);
    if (this.#all.size === 0) this.#onDrained?.();
    for (const pending of link.pending.values()) pending.reject(new AgentUnavailableError("the workspace agent disconnected"));
    for (const stream of link.streams.values()) stream({ type: "error", message: "the workspace agent disconnected" });
    link.streams.clear();
    link.vnc.endAll("the workspace agent disconnected");
    if (this.#live.get(link.agent.id) !== link) return;
    this.#live.delete(link.agent.id);
    try {
      await this.deps.db
        .update(workspaceAgents)
        .set({ replicaId: null, disconnectedAt: sql`now()` })
        .where(and(eq(workspaceAgents.id, link.agent.id), eq(workspaceAgents.replicaId, this.deps.replicaId)));
      this.deps.log.info({ agent_id: link.agent.id, workspace_id: link.agent.workspaceId }, "workspace agent disconnected");
      await this.#announce(link.agent, false);
    } catch (error) {
      this.deps.log.warn({ err: error, agent_id: link.agent.id }, "recording the agent disconnect failed");
    }
  }

  async #announce(agent: AgentRow, connected: boolean): Promise<void> {
    const event: WorkspaceEvent = { type: "agent", agent_id: agent.id, connected };
    await this.deps.pubsub.publish(workspaceChannel(agent.workspaceId), JSON.stringify(event)).catch(() => undefined);
  }

  /** Pings every link; a link silent for too long is cut; heartbeats of live ones are recorded. */
  #tick(): void {
    const now = Date.now();
    const heard: string[] = [];
    for (const link of this.#all) {
      if (now - link.lastHeard > AGENT_SILENCE_TIMEOUT_MS) {
        rawSocket(link.ws.raw)?.terminate();
        continue;
      }
      rawSocket(link.ws.raw)?.ping();
      if (link.ready && now - link.lastHeard < HEARTBEAT_WRITE_INTERVAL_MS * 2) heard.push(link.agent.id);
    }
    for (const agentId of heard) {
      this.deps.db
        .update(workspaceAgents)
        .set({ lastHeartbeatAt: sql`now()` })
        .where(and(eq(workspaceAgents.id, agentId), eq(workspaceAgents.replicaId, this.deps.replicaId)))
        .catch((error: unknown) => this.deps.log.warn({ err: error, agent_id: agentId }, "agent heartbeat write failed"));
    }
  }
}
