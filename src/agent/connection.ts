/**
 * The agent's link to the server: dial `${url}${AGENT_CONNECT_PATH}` with the agent token, say
 * `hello`, answer `request` frames concurrently, and redial whenever the link is lost.
 *
 * Invariants:
 * - The token travels only in the Authorization header and is never logged.
 * - Redials back off exponentially from BACKOFF_INITIAL_MS to BACKOFF_MAX_MS with jitter (so a
 *   restarted server is not hit by every agent at once); a successful upgrade resets the backoff.
 * - MAX_CONSECUTIVE_UNAUTHORIZED refused upgrades (401) without a successful one between mean the token is dead (the
 *   workspace was rebuilt or its agent reissued): `fatal` resolves and the agent should exit.
 * - Silence for `silenceTimeoutMs` (no ping, no message) means the link is dead even if TCP has
 *   not noticed: the socket is terminated and redialed.
 * - Every frame in is parsed with the protocol's schema; a malformed request with an id still
 *   gets a `bad_request` response, anything else malformed is logged and dropped.
 */
import WebSocket from "ws";
import { safeJson } from "../util/parse.js";
import { errorMessage } from "./errors.js";
import type { ResponseFrame, Session } from "./dispatch.js";
import { AGENT_CONNECT_PATH, AGENT_SILENCE_TIMEOUT_MS, PROTOCOL_MISMATCH_CLOSE_CODE, type AgentToServerFrame, type RequestFrame, requestFrame, type helloFrame } from "./protocol.js";
import type { z } from "zod";

export const BACKOFF_INITIAL_MS = 250;
/** Long enough not to hammer a server that is down, short enough that an agent is back soon after. */
export const BACKOFF_MAX_MS = 10_000;
/** One 401 can be a race with a token being reissued; five in a row cannot. */
export const MAX_CONSECUTIVE_UNAUTHORIZED = 5;
/** An upgrade that has not completed in 10 s will not; dial again. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A polite close gets this long before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;

export type HelloFrame = z.infer<typeof helloFrame>;

export interface ConnectionOptions {
  /** Server base URL, http(s) or ws(s). */
  url: string;
  token: string;
  hello: HelloFrame;
  onRequest: (frame: RequestFrame, session: Session) => Promise<ResponseFrame>;
  /** The session's socket closed: its streams must end. */
  onSessionClose: (session: Session) => void;
  log: (line: string) => void;
  silenceTimeoutMs?: number;
}

export function connectUrl(base: string): string {
  const url = new URL(`${base.replace(/\/+$/, "")}${AGENT_CONNECT_PATH}`);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  return url.href;
}

/** Full-jitter-ish: between half and all of the exponential delay. */
export function backoffDelay(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export class AgentConnection {
  /** Resolves with the reason when the agent should give up (its token is refused). */
  readonly fatal: Promise<string>;
  private resolveFatal: (reason: string) => void = () => undefined;
  private socket: WebSocket | undefined;
  private attempt = 0;
  private unauthorized = 0;
  private redialTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly target: string;
  private readonly silenceTimeoutMs: number;

  constructor(private readonly options: ConnectionOptions) {
    this.fatal = new Promise<string>((resolve) => {
      this.resolveFatal = resolve;
    });
    this.target = connectUrl(options.url);
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? AGENT_SILENCE_TIMEOUT_MS;
  }

  start(): void {
    this.dial();
  }

  /** Stops redialing and closes the socket (politely, then for good after a grace period). */
  close(): void {
    this.stopped = true;
    clearTimeout(this.redialTimer);
    const socket = this.socket;
    if (!socket) return;
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1001, "agent shutting down");
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      socket.terminate();
    }
  }

  private dial(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.target, {
      headers: { Authorization: `Bearer ${this.options.token}` },
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.socket = socket;
    let refusedWith: number | undefined;
    let silenceTimer: NodeJS.Timeout | undefined;
    const heard = () => {
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(() => {
        this.options.log(`no ping from the server for ${this.silenceTimeoutMs} ms; reconnecting`);
        socket.terminate();
      }, this.silenceTimeoutMs);
    };
    const session: Session = {
      send: (frame: AgentToServerFrame) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
      },
    };

    socket.on("unexpected-response", (_request, response) => {
      refusedWith = response.statusCode;
      response.resume();
      socket.terminate();
    });
    let opened = false;
    let lastError = "";
    socket.on("error", (error) => {
      lastError = errorMessage(error);
    });
    socket.on("open", () => {
      opened = true;
      this.attempt = 0;
      this.unauthorized = 0;
      this.options.log(`connected to ${this.target}`);
      heard();
      session.send(this.options.hello);
    });
    socket.on("ping", heard);
    socket.on("pong", heard);
    socket.on("message", (data, isBinary) => {
      heard();
      if (isBinary) {
        this.options.log("ignoring a binary frame");
        return;
      }
      this.handleText(data.toString(), session);
    });
    socket.on("close", (code, closeReason) => {
      clearTimeout(silenceTimer);
      this.options.onSessionClose(session);
      if (this.socket === socket) this.socket = undefined;
      if (this.stopped) return;
      let reason: string;
      if (refusedWith === 401) {
        this.unauthorized++;
        reason = `the server refused the agent token (401, ${this.unauthorized} in a row)`;
        if (this.unauthorized >= MAX_CONSECUTIVE_UNAUTHORIZED) {
          this.options.log(reason);
          this.stopped = true;
          this.resolveFatal(`the server refused the agent token ${this.unauthorized} times in a row`);
          return;
        }
      } else if (code === PROTOCOL_MISMATCH_CLOSE_CODE) {
        // Redialing cannot help: this agent binary is from another chatd version.
        this.stopped = true;
        this.resolveFatal(`the server refused this agent's protocol: ${closeReason.toString() || "version mismatch"}`);
        return;
      } else if (refusedWith !== undefined) {
        reason = `the server refused the connection with HTTP ${refusedWith}`;
      } else if (!opened) {
        reason = `could not connect: ${lastError || "handshake failed"}`;
      } else {
        reason = `disconnected (code ${code})`;
      }
      const delay = backoffDelay(this.attempt++);
      this.options.log(`${reason}; reconnecting in ${delay} ms`);
      this.redialTimer = setTimeout(() => this.dial(), delay);
    });
  }

  private handleText(text: string, session: Session): void {
    const raw = safeJson(text);
    const frame = requestFrame.safeParse(raw);
    if (!frame.success) {
      const id = typeof raw === "object" && raw !== null && "id" in raw && Number.isInteger(raw.id) ? raw.id : undefined;
      this.options.log(`ignoring a malformed frame from the server${typeof id === "number" ? ` (request ${id})` : ""}`);
      if (typeof id === "number") {
        session.send({ type: "response", id, ok: false, error: { code: "bad_request", message: "malformed request frame" } });
      }
      return;
    }
    void this.options.onRequest(frame.data, session).then(
      (response) => session.send(response),
      (error: unknown) => this.options.log(`request ${frame.data.id} failed unexpectedly: ${errorMessage(error)}`),
    );
  }
}
