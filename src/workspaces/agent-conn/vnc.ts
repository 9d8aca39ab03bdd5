/**
 * The server's end of VNC byte streams carried over one agent link (the agent's end is
 * agent/desktop/vnc.ts): `desktop.vnc.open` starts a stream, the agent pushes x11vnc's bytes as
 * `vnc` frames (the last one has `closed: true`), `desktop.vnc.write` carries the viewer's bytes
 * and `desktop.vnc.close` ends it.
 *
 * Invariants:
 * - Bytes reach `onData` in the order the agent sent them: the link hands each frame over
 *   synchronously as it arrives, and nothing here queues or reorders.
 * - `onEnd` is called at most once per stream, and no `onData` after it; a stream ended by its own
 *   `close()` gets no `onEnd` (its caller already knows).
 * - A stream stays counted on the link until the agent confirms its end (the `closed: true`
 *   frame), so `size` says how many bridges the agent still holds for this link.
 * - Writes go out in order without waiting for each answer: the agent applies `desktop.vnc.write`
 *   synchronously in arrival order. Unanswered bytes are bounded (MAX_WRITE_BYTES_IN_FLIGHT).
 * - A frame for a stream nobody here holds (an open the agent finished after its caller gave up)
 *   is answered with `desktop.vnc.close`, so the agent does not keep a bridge nobody reads.
 */
import { MAX_VNC_WRITE_BASE64, type AgentParams, type AgentResult } from "../../agent/protocol.js";

/** How a stream ended, in WebSocket close terms, since every consumer ends a WebSocket with it. */
export interface VncStreamEnd {
  code: number;
  reason: string;
}

export interface VncStreamHandlers {
  /** Bytes from x11vnc; may be called before `openDesktopVnc` resolves (the RFB banner comes first). */
  onData(chunk: Uint8Array<ArrayBuffer>): void;
  onEnd(end: VncStreamEnd): void;
}

export interface VncStream {
  /** Bytes for x11vnc; split into requests the agent accepts. */
  write(data: Uint8Array): void;
  /** Ends the stream; safe to call more than once. */
  close(): void;
}

/** The VNC server closed the connection: a normal end (RFC 6455 1000). */
export const VNC_END_NORMAL = 1000;
/** The agent went away, refused a write, or the open failed (RFC 6455 1011, internal error). */
export const VNC_END_FAILED = 1011;
/** One side could not keep up and was cut rather than buffered without bound (RFC 6455 1013, try again later). */
export const VNC_END_SLOW = 1013;

/** The most raw bytes one `desktop.vnc.write` may carry: the agent's base64 limit, decoded. */
export const VNC_WRITE_CHUNK_BYTES = Math.floor(MAX_VNC_WRITE_BASE64 / 4) * 3;
/**
 * Viewer bytes sent to the agent and not yet acknowledged. A viewer sends keys and pointer moves
 * (a few bytes each) and the odd clipboard text, so 4 MiB unanswered means the agent has stalled
 * or the viewer is flooding: the stream ends instead of the server queueing requests forever.
 */
export const MAX_WRITE_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

/** WebSocket close reasons are at most 123 bytes (RFC 6455 section 5.5). */
const MAX_CLOSE_REASON_CHARS = 120;

/**
 * The same bytes typed as backed by a plain ArrayBuffer (what WebSocket sends accept); copied
 * only in the case Node never produces here, a SharedArrayBuffer.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Uint8Array.from(bytes);
}

export function closeReason(text: string): string {
  return text.length <= MAX_CLOSE_REASON_CHARS ? text : `${text.slice(0, MAX_CLOSE_REASON_CHARS - 1)}…`;
}

type VncMethod = "desktop.vnc.open" | "desktop.vnc.write" | "desktop.vnc.close";
/** A call on the link that owns the streams (a newer link is another agent session: not_found there). */
export type VncCall = <M extends VncMethod>(method: M, params: AgentParams<M>, options?: { timeoutMs?: number }) => Promise<AgentResult<M>>;

export interface VncFrame {
  stream_id: string;
  data_base64: string;
  closed?: boolean | undefined;
}

class LinkStream implements VncStream {
  #ended = false;
  #inFlight = 0;

  constructor(
    readonly id: string,
    private readonly owner: LinkVncStreams,
    private readonly call: VncCall,
    private readonly handlers: VncStreamHandlers,
  ) {}

  get ended(): boolean {
    return this.#ended;
  }

  deliver(frame: VncFrame): void {
    if (frame.closed) this.owner.forget(this.id, this);
    if (this.#ended) return;
    if (frame.data_base64 !== "") this.handlers.onData(Buffer.from(frame.data_base64, "base64"));
    if (frame.closed) this.end({ code: VNC_END_NORMAL, reason: "the desktop's VNC server closed the connection" });
  }

  write(data: Uint8Array): void {
    for (let offset = 0; offset < data.length && !this.#ended; offset += VNC_WRITE_CHUNK_BYTES) {
      const chunk = data.subarray(offset, offset + VNC_WRITE_CHUNK_BYTES);
      if (this.#inFlight + chunk.length > MAX_WRITE_BYTES_IN_FLIGHT) {
        this.abort({ code: VNC_END_SLOW, reason: "the workspace agent is not accepting VNC input fast enough" });
        return;
      }
      this.#inFlight += chunk.length;
      this.call("desktop.vnc.write", { stream_id: this.id, data_base64: Buffer.from(chunk).toString("base64") }).then(
        () => {
          this.#inFlight -= chunk.length;
        },
        (error: unknown) => this.abort({ code: VNC_END_FAILED, reason: closeReason(`VNC write failed: ${error instanceof Error ? error.message : String(error)}`) }),
      );
    }
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#askAgentToClose();
  }

  /** Ended from this side for a reason the consumer must hear. */
  abort(end: VncStreamEnd): void {
    if (this.#ended) return;
    this.close();
    this.handlers.onEnd(end);
  }

  /** Ended by the agent or the link: nothing to ask the agent. */
  end(end: VncStreamEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.handlers.onEnd(end);
  }

  #askAgentToClose(): void {
    // A failed close (not_found: the bridge is already gone, or the link is) leaves nothing to wait for.
    this.call("desktop.vnc.close", { stream_id: this.id }).catch(() => this.owner.forget(this.id, this));
  }
}

/** The VNC streams of one agent link. */
export class LinkVncStreams {
  readonly #streams = new Map<string, LinkStream>();
  /** Orphans already asked to close, so a burst of their frames costs one close each. */
  readonly #orphansClosing = new Set<string>();

  constructor(private readonly closeOrphan: (streamId: string) => Promise<unknown>) {}

  /** Streams open, or closed here and not yet confirmed closed by the agent. */
  get size(): number {
    return this.#streams.size;
  }

  /** Opens a stream; `onData` may fire before this resolves. Rejects as the open call does. */
  async open(call: VncCall, handlers: VncStreamHandlers, options: { timeoutMs?: number }): Promise<VncStream> {
    const stream = new LinkStream(crypto.randomUUID(), this, call, handlers);
    // Registered first: the agent may push the RFB banner before its answer to the open.
    this.#streams.set(stream.id, stream);
    try {
      await call("desktop.vnc.open", { stream_id: stream.id }, options);
    } catch (error) {
      // The agent may still finish the open (a timeout): closing tells it to drop the bridge.
      stream.close();
      throw error;
    }
    return stream;
  }

  deliver(frame: VncFrame): void {
    const stream = this.#streams.get(frame.stream_id);
    if (stream) {
      stream.deliver(frame);
      return;
    }
    if (frame.closed) {
      this.#orphansClosing.delete(frame.stream_id);
      return;
    }
    if (this.#orphansClosing.has(frame.stream_id)) return;
    this.#orphansClosing.add(frame.stream_id);
    // A refused close means the bridge is gone already: no `closed` frame will come to clear it.
    this.closeOrphan(frame.stream_id).catch(() => this.#orphansClosing.delete(frame.stream_id));
  }

  /** The link closed: the agent has dropped every bridge of this session already. */
  endAll(reason: string): void {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#orphansClosing.clear();
    for (const stream of streams) stream.end({ code: VNC_END_FAILED, reason });
  }

  forget(id: string, stream: LinkStream): void {
    if (this.#streams.get(id) === stream) this.#streams.delete(id);
  }
}
