/**
 * Byte bridges between the server and the desktop's x11vnc socket, carried over the agent
 * connection: `desktop.vnc.open` connects to the socket and the agent pushes what x11vnc sends
 * as `vnc` frames (base64 of the exact bytes); `desktop.vnc.write` delivers the viewer's bytes;
 * `desktop.vnc.close` or the end of either side ends the bridge.
 *
 * Invariants:
 * - Every bridge ends with exactly one `vnc` frame carrying `closed: true`, whoever closed it, so
 *   the server can close its WebSocket.
 * - A bridge belongs to the session (agent connection) that opened it: when that socket closes,
 *   its bridges close too, and another session cannot write to or close them (`not_found`).
 * - Bytes are relayed in the order received; x11vnc's chunks are sent as they arrive (at most one
 *   socket read, 64 KiB, per frame), well inside the WebSocket frame limit.
 */
import { connect, type Socket } from "node:net";
import { badRequest, notFound } from "../errors.js";
import type { AgentToServerFrame } from "../protocol.js";
import type { Desktop } from "./desktop.js";

/** How long connecting to x11vnc's socket may take; it is local, so anything longer is a fault. */
const VNC_CONNECT_TIMEOUT_MS = 5_000;

/** The agent connection a bridge's frames go back on (dispatch.ts Session). */
export interface VncSession {
  send(frame: AgentToServerFrame): void;
}

interface Bridge {
  socket: Socket;
  session: VncSession;
  closed: boolean;
}

export class VncBridges {
  private readonly bridges = new Map<string, Bridge>();

  constructor(private readonly desktop: Desktop) {}

  async open(streamId: string, session: VncSession): Promise<void> {
    if (this.bridges.has(streamId)) throw badRequest(`VNC stream ${streamId} is already open`);
    const { vnc_socket } = await this.desktop.start();
    const socket = connect(vnc_socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to the VNC server within ${VNC_CONNECT_TIMEOUT_MS} ms`));
      }, VNC_CONNECT_TIMEOUT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", reject);
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const bridge: Bridge = { socket, session, closed: false };
    this.bridges.set(streamId, bridge);
    socket.on("data", (chunk: Buffer) => session.send({ type: "vnc", stream_id: streamId, data_base64: chunk.toString("base64") }));
    // Errors end the socket; `close` below reports it once.
    socket.on("error", () => undefined);
    socket.on("close", () => this.finish(streamId, bridge));
  }

  write(streamId: string, session: VncSession, data: Buffer): void {
    const bridge = this.owned(streamId, session);
    bridge.socket.write(data);
  }

  close(streamId: string, session: VncSession): void {
    const bridge = this.owned(streamId, session);
    bridge.socket.destroy();
    this.finish(streamId, bridge);
  }

  /** The session's socket closed: its bridges have nobody to talk to. */
  closeOwner(session: VncSession): void {
    for (const [streamId, bridge] of this.bridges) {
      if (bridge.session !== session) continue;
      bridge.socket.destroy();
      this.finish(streamId, bridge);
    }
  }

  closeAll(): void {
    for (const [streamId, bridge] of this.bridges) {
      bridge.socket.destroy();
      this.finish(streamId, bridge);
    }
  }

  private owned(streamId: string, session: VncSession): Bridge {
    const bridge = this.bridges.get(streamId);
    if (!bridge || bridge.session !== session) throw notFound(`no VNC stream ${streamId}`);
    return bridge;
  }

  private finish(streamId: string, bridge: Bridge): void {
    if (bridge.closed) return;
    bridge.closed = true;
    if (this.bridges.get(streamId) === bridge) this.bridges.delete(streamId);
    bridge.session.send({ type: "vnc", stream_id: streamId, data_base64: "", closed: true });
  }
}
