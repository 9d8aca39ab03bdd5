/**
 * Calls to an agent whose socket another replica holds. The holder exposes two internal
 * endpoints, authenticated with the replica relay secret (streams/relay.ts) and never with a
 * user's credential:
 * - `POST /api/internal/agents/{agent}/rpc`: one call, answered as a ForwardedAnswer.
 * - `GET  /api/internal/agents/{agent}/git-watch` (WebSocket): a git watch; the caller sends
 *   `{type:"refresh"}`, the holder sends GitWatchMessages.
 * - `GET  /api/internal/agents/{agent}/desktop-vnc` (WebSocket): a VNC stream. Binary messages are
 *   the stream's bytes both ways; the holder sends one text `{type:"opened"}` once the agent has
 *   opened it (x11vnc's first bytes may come before), and ends the stream by closing the socket
 *   with the stream's own end code (vnc.ts); a close before `opened` is a failed open.
 * An answer of `unavailable` means the holder no longer has the agent: the directory then looks
 * the agent up again (it may have reconnected to a third replica).
 */
import { eq } from "drizzle-orm";
import WebSocket from "ws";
import { z } from "zod";
import type { Database } from "../../db/client.js";
import { replicas } from "../../db/schema/index.js";
import {
  agentErrorSchema,
  agentResultSchema,
  gitWatchMessageSchema,
  type AgentMethod,
  type AgentParams,
  type AgentResult,
  type GitWatchMessage,
} from "../../agent/protocol.js";
import { RELAY_SECRET_HEADER } from "../../streams/relay.js";
import { safeJson } from "../../util/parse.js";
import { AgentCallError, AgentUnavailableError, type AgentCallContext, type AgentStream } from "./errors.js";
import { AGENT_CALL_TIMEOUT_MS } from "./connections.js";
import { closeReason, plainBytes, VNC_END_FAILED, VNC_END_NORMAL, VNC_END_SLOW, type VncStream, type VncStreamHandlers } from "./vnc.js";

export const agentRpcPath = (agentId: string) => `/api/internal/agents/${agentId}/rpc`;
export const agentGitWatchPath = (agentId: string) => `/api/internal/agents/${agentId}/git-watch`;
export const agentDesktopVncPath = (agentId: string) => `/api/internal/agents/${agentId}/desktop-vnc`;

/**
 * A replica's address is fixed for its lifetime (a restart is a new replica id), so a short cache
 * only delays noticing that a replica is gone, which the failed call then reports anyway.
 */
const ADDRESS_CACHE_MS = 30_000;
/** Replica ids are few; the bound only guards against a leak. */
const MAX_CACHED_ADDRESSES = 1000;
/** The hop between replicas gets this much beyond the call's own deadline. */
const FORWARD_OVERHEAD_MS = 5_000;
/** A forwarded git watch that does not open within this is given up. */
const FORWARD_DIAL_TIMEOUT_MS = 5_000;

export const forwardedCallSchema = z.object({
  method: z.string().max(64),
  params: z.unknown(),
  chat_id: z.string().max(64).optional(),
  ancestor_chat_ids: z.array(z.string().max(64)).max(64).optional(),
  timeout_ms: z.number().int().min(1).max(10 * 60_000).optional(),
});
export type ForwardedCall = z.infer<typeof forwardedCallSchema>;

export const forwardedAnswerSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: agentErrorSchema }),
  z.object({ ok: z.literal(false), unavailable: z.string() }),
]);
export type ForwardedAnswer = z.infer<typeof forwardedAnswerSchema>;

export const gitWatchClientMessageSchema = z.object({ type: z.literal("refresh") });

/** The forwarded VNC stream's query: the chat context and the open's deadline. */
export const desktopVncQuerySchema = z.object({
  chat_id: z.string().max(64).optional(),
  ancestor_chat_id: z.array(z.string().max(64)).max(64).default([]),
  timeout_ms: z.coerce.number().int().min(1).max(10 * 60_000).optional(),
});
/** The holder's one control message on a forwarded VNC stream. */
export const desktopVncOpenedSchema = z.object({ type: z.literal("opened") });
export const DESKTOP_VNC_OPENED = JSON.stringify({ type: "opened" } satisfies z.infer<typeof desktopVncOpenedSchema>);

/** End codes a forwarded VNC stream passes on as they are; anything else is a failure. */
const RELAYED_VNC_END_CODES: readonly number[] = [VNC_END_NORMAL, VNC_END_FAILED, VNC_END_SLOW];
/**
 * Viewer bytes queued on the hop to the holder and not yet sent. Viewer input is small, so this
 * only trips when the holder stops reading; the stream then ends instead of queueing here.
 */
const MAX_FORWARD_BUFFERED_BYTES = 4 * 1024 * 1024;

export class ForwardingClient {
  constructor(
    private readonly db: Database,
    private readonly secret: string,
  ) {}

  readonly #addresses = new Map<string, { address: string; expires: number }>();

  /** A replica's relay address; cached briefly, as every forwarded call needs it. */
  async #address(replicaId: string): Promise<string> {
    const cached = this.#addresses.get(replicaId);
    if (cached && cached.expires > Date.now()) return cached.address;
    const [replica] = await this.db.select({ relayAddress: replicas.relayAddress }).from(replicas).where(eq(replicas.id, replicaId));
    if (!replica?.relayAddress) {
      this.#addresses.delete(replicaId);
      throw new AgentUnavailableError("the replica holding the workspace agent is gone");
    }
    if (this.#addresses.size >= MAX_CACHED_ADDRESSES) this.#addresses.clear();
    this.#addresses.set(replicaId, { address: replica.relayAddress, expires: Date.now() + ADDRESS_CACHE_MS });
    return replica.relayAddress;
  }

  async call<M extends AgentMethod>(
    replicaId: string,
    agentId: string,
    method: M,
    params: AgentParams<M>,
    context: AgentCallContext,
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<AgentResult<M>> {
    const address = await this.#address(replicaId);
    const timeoutMs = options.timeoutMs ?? AGENT_CALL_TIMEOUT_MS;
    const body: ForwardedCall = { method, params, ...context, timeout_ms: timeoutMs };
    const signals = [AbortSignal.timeout(timeoutMs + FORWARD_OVERHEAD_MS), ...(options.signal ? [options.signal] : [])];
    let response: Response;
    try {
      response = await fetch(new URL(agentRpcPath(agentId), address), {
        method: "POST",
        headers: { "content-type": "application/json", [RELAY_SECRET_HEADER]: this.secret },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (options.signal?.aborted) throw new AgentCallError("internal", "the call was cancelled");
      throw new AgentUnavailableError(`the replica holding the workspace agent did not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
    const answer = forwardedAnswerSchema.safeParse(safeJson(await response.text()));
    if (!answer.success) throw new AgentUnavailableError(`the replica holding the workspace agent answered ${response.status}`);
    if (answer.data.ok) {
      const result = agentResultSchema(method).safeParse(answer.data.result);
      if (!result.success) throw new AgentCallError("internal", `the agent answered ${method} with an unexpected result`);
      return result.data;
    }
    if ("unavailable" in answer.data) throw new AgentUnavailableError(answer.data.unavailable);
    throw new AgentCallError(answer.data.error.code, answer.data.error.message);
  }

  async openGitWatch(replicaId: string, agentId: string, context: AgentCallContext, onMessage: (message: GitWatchMessage) => void): Promise<AgentStream> {
    const address = await this.#address(replicaId);
    const url = new URL(agentGitWatchPath(agentId), address.replace(/^http/, "ws"));
    if (context.chat_id) url.searchParams.set("chat_id", context.chat_id);
    for (const ancestor of context.ancestor_chat_ids ?? []) url.searchParams.append("ancestor_chat_id", ancestor);
    const ws = new WebSocket(url, { headers: { [RELAY_SECRET_HEADER]: this.secret }, handshakeTimeout: FORWARD_DIAL_TIMEOUT_MS });
    let ended = false;
    const end = (message: string) => {
      if (ended) return;
      ended = true;
      onMessage({ type: "error", message });
    };
    ws.on("message", (data: WebSocket.RawData) => {
      const parsed = gitWatchMessageSchema.safeParse(safeJson(data.toString()));
      if (parsed.success) onMessage(parsed.data);
    });
    const opened = await new Promise<boolean>((resolve) => {
      ws.once("open", () => resolve(true));
      ws.once("error", () => resolve(false));
      ws.once("close", () => resolve(false));
    });
    if (!opened) throw new AgentUnavailableError("could not reach the replica holding the workspace agent");
    ws.on("close", () => end("the workspace agent's replica closed the git watch"));
    ws.on("error", () => end("the workspace agent's replica closed the git watch"));
    return {
      refresh: async () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "refresh" }));
      },
      close: () => {
        ended = true;
        ws.close();
      },
    };
  }

  async openDesktopVnc(replicaId: string, agentId: string, context: AgentCallContext, handlers: VncStreamHandlers, options: { timeoutMs?: number }): Promise<VncStream> {
    const address = await this.#address(replicaId);
    const url = new URL(agentDesktopVncPath(agentId), address.replace(/^http/, "ws"));
    if (context.chat_id) url.searchParams.set("chat_id", context.chat_id);
    for (const ancestor of context.ancestor_chat_ids ?? []) url.searchParams.append("ancestor_chat_id", ancestor);
    const timeoutMs = options.timeoutMs ?? AGENT_CALL_TIMEOUT_MS;
    url.searchParams.set("timeout_ms", String(timeoutMs));
    // maxPayload 0: no read limit. The holder sends one agent frame per message (64 KiB at most),
    // so this only keeps ws's own cap from ever cutting a framebuffer update short.
    const ws = new WebSocket(url, { headers: { [RELAY_SECRET_HEADER]: this.secret }, handshakeTimeout: FORWARD_DIAL_TIMEOUT_MS, maxPayload: 0 });
    ws.binaryType = "nodebuffer";
    let opened = false;
    let ended = false;
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      handlers.onEnd({ code: RELAYED_VNC_END_CODES.includes(code) ? code : VNC_END_FAILED, reason: reason || "the workspace agent's replica closed the VNC stream" });
    };
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new AgentUnavailableError(`the workspace agent's replica did not open the VNC stream within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs + FORWARD_OVERHEAD_MS);
      ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
        if (ended) return;
        if (isBinary) {
          handlers.onData(plainBytes(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)])));
          return;
        }
        if (!opened && desktopVncOpenedSchema.safeParse(safeJson(data.toString())).success) {
          opened = true;
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on("close", (code: number, reason: Buffer) => {
        clearTimeout(timer);
        if (opened) end(code, reason.toString());
        else reject(new AgentUnavailableError(reason.toString() || "could not reach the replica holding the workspace agent"));
      });
      // Errors are followed by `close`, which reports them.
      ws.on("error", () => undefined);
    });
    await ready;
    return {
      write: (data) => {
        if (ended || ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > MAX_FORWARD_BUFFERED_BYTES) {
          ws.close(VNC_END_SLOW, "viewer input is not being read");
          end(VNC_END_SLOW, closeReason("the workspace agent's replica is not reading VNC input"));
          return;
        }
        ws.send(data);
      },
      close: () => {
        ended = true;
        ws.close(VNC_END_NORMAL);
      },
    };
  }
}
