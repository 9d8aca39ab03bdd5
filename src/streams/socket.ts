/**
 * One server→client event WebSocket (behavior.md section 4). Frames are JSON
 * `{type: "ping" | "data" | "error", data?}`. Events queued during a tick go out as ONE `data`
 * frame holding an array of at most MAX_EVENTS_PER_FRAME events: a write per event costs ten times
 * more (libs.md d). A ping frame every PING_INTERVAL_MS keeps proxies from closing idle streams.
 *
 * A burst larger than a frame is sent at once in full frames, so a fast producer never piles up
 * events here. A viewer that cannot keep up is cut off rather than allowed to grow the server's
 * memory: when the socket's unsent bytes pass MAX_BUFFERED_BYTES it gets an error frame and is
 * closed (it can reconnect and resume). Drops are counted.
 */
import type { WSContext } from "hono/ws";

/** behavior.md: frames carry at most 256 events. */
export const MAX_EVENTS_PER_FRAME = 256;
/** behavior.md: a ping every 15 s. */
export const PING_INTERVAL_MS = 15_000;
/** Bytes the socket has not sent yet: above this the client is not reading. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** WebSocket close code for "try again later" (RFC 6455 registry). */
const CLOSE_TRY_AGAIN_LATER = 1013;

export interface SocketStats {
  slowClosed: number;
  /** Sockets open now (chat streams, watches, relays), for the active-streams gauge. */
  open?: number;
}

function bufferedAmount(raw: unknown): number {
  if (typeof raw === "object" && raw !== null && "bufferedAmount" in raw && typeof raw.bufferedAmount === "number") return raw.bufferedAmount;
  return 0;
}

export class EventSocket<E> {
  #pending: E[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #ping: NodeJS.Timeout;
  readonly #onClose: Array<() => void> = [];

  constructor(
    private readonly ws: WSContext,
    private readonly stats: SocketStats,
    /** Watch streams send each event in its own frame (behavior.md). */
    private readonly framing: "batched" | "single" = "batched",
  ) {
    this.#ping = setInterval(() => this.#sendFrame({ type: "ping" }), PING_INTERVAL_MS);
    this.#ping.unref();
    this.stats.open = (this.stats.open ?? 0) + 1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(callback: () => void): void {
    if (this.#closed) callback();
    else this.#onClose.push(callback);
  }

  sendPing(): void {
    this.#sendFrame({ type: "ping" });
  }

  push(...events: E[]): void {
    if (this.#closed || events.length === 0) return;
    if (bufferedAmount(this.ws.raw) > MAX_BUFFERED_BYTES) {
      this.stats.slowClosed++;
      this.fail("stream consumer is too slow; reconnect to resume", CLOSE_TRY_AGAIN_LATER);
      return;
    }
    this.#pending.push(...events);
    if (this.framing === "batched" && this.#pending.length >= MAX_EVENTS_PER_FRAME) {
      this.#flush();
      return;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Sends everything queued now (the snapshot, before live events). */
  flushNow(): void {
    this.#flush();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const events = this.#pending;
    this.#pending = [];
    if (this.framing === "single") {
      for (const event of events) this.#sendFrame({ type: "data", data: event });
      return;
    }
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_FRAME) {
      this.#sendFrame({ type: "data", data: events.slice(i, i + MAX_EVENTS_PER_FRAME) });
    }
  }

  #sendFrame(frame: { type: "ping" | "data" | "error"; data?: unknown }): void {
    if (this.#closed) return;
    try {
      this.ws.send(JSON.stringify(frame));
    } catch {
      this.close();
    }
  }

  /** Sends an error frame and closes. */
  fail(message: string, code = 1011): void {
    if (this.#closed) return;
    this.#pending = [];
    this.#sendFrame({ type: "error", data: { message } });
    this.close(code, message.slice(0, 120));
  }

  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stats.open = Math.max(0, (this.stats.open ?? 1) - 1);
    clearInterval(this.#ping);
    try {
      this.ws.close(code, reason);
    } catch {
      // Already gone.
    }
    for (const callback of this.#onClose.splice(0)) callback();
  }
}
