/**
 * WebSocket handlers that bicopy one binary WebSocket and one VNC stream (workspaces/agent-conn/
 * vnc.ts). Used by the viewer's `/chats/{chat}/stream/desktop` and by the replica forwarding
 * endpoint `/api/internal/agents/{agent}/desktop-vnc`, which also announces the open.
 *
 * Invariants:
 * - The stream is opened once the socket is open, and closed when the socket closes, however
 *   far the open had got; the socket is closed when the stream ends, with the stream's code.
 * - Bytes keep their order both ways; viewer bytes that arrive before the stream is open are
 *   held (bounded) and written first.
 * - Server memory stays bounded whatever the viewer does: x11vnc's output is not queued past
 *   MAX_VIEWER_BUFFERED_BYTES of unsent data (the viewer is cut with 1013, try again later), and
 *   the stream bounds unanswered input (vnc.ts). The agent protocol has no flow control, so
 *   cutting a viewer that stopped reading is the only bound available; RFB itself paces x11vnc
 *   (it sends a framebuffer update only when the viewer asks for one), so a viewer that reads
 *   normally never gets near it.
 */
import type { WSContext } from "hono/ws";
import { closeReason, VNC_END_FAILED, VNC_END_SLOW, type VncStream, type VncStreamHandlers } from "../../workspaces/agent-conn/vnc.js";
import { DESKTOP_VNC_OPENED } from "../../workspaces/agent-conn/forward.js";

/**
 * Unsent bytes on the viewer's socket beyond which it is cut. A full 1280x720 update in raw 32-bit
 * pixels is 3.5 MiB, so 16 MiB holds four of them: a viewer that is that far behind is not reading.
 */
export const MAX_VIEWER_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Viewer bytes held while the stream opens; a viewer has nothing to say before the RFB banner. */
const MAX_EARLY_INPUT_BYTES = 64 * 1024;
/** RFC 6455: the endpoint received data it cannot accept (RFB over WebSocket is binary only). */
const CLOSE_UNSUPPORTED_DATA = 1003;

function bufferedAmount(raw: unknown): number {
  if (typeof raw === "object" && raw !== null && "bufferedAmount" in raw && typeof raw.bufferedAmount === "number") return raw.bufferedAmount;
  return 0;
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof Uint8Array) return data;
  return undefined;
}

export interface VncBridgeOptions {
  /** Send DESKTOP_VNC_OPENED once the stream is open (the forwarding endpoint's protocol). */
  announceOpen: boolean;
  /** Called when the viewer is cut for not reading. */
  onSlowViewer?: () => void;
}

export function vncBridge(open: (handlers: VncStreamHandlers) => Promise<VncStream>, options: VncBridgeOptions) {
  let stream: VncStream | undefined;
  let closed = false;
  let early: Uint8Array[] = [];
  let earlyBytes = 0;
  let socket: WSContext | undefined;

  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    stream?.close();
    socket?.close(code, closeReason(reason));
  };

  return {
    onOpen: (_event: Event, ws: WSContext) => {
      socket = ws;
      const handlers: VncStreamHandlers = {
        onData: (chunk) => {
          if (closed) return;
          if (bufferedAmount(ws.raw) > MAX_VIEWER_BUFFERED_BYTES) {
            options.onSlowViewer?.();
            finish(VNC_END_SLOW, "the viewer is not reading the desktop stream fast enough; reconnect");
            return;
          }
          ws.send(chunk);
        },
        onEnd: (end) => {
          if (closed) return;
          // The stream is over already: nothing to close on it.
          closed = true;
          ws.close(end.code, closeReason(end.reason));
        },
      };
      open(handlers).then(
        (opened) => {
          if (closed) {
            opened.close();
            return;
          }
          stream = opened;
          if (options.announceOpen) ws.send(DESKTOP_VNC_OPENED);
          for (const chunk of early) opened.write(chunk);
          early = [];
        },
        (error: unknown) => {
          if (closed) return;
          closed = true;
          ws.close(VNC_END_FAILED, closeReason(`could not open the desktop stream: ${error instanceof Error ? error.message : String(error)}`));
        },
      );
    },
    onMessage: (event: MessageEvent) => {
      if (closed) return;
      const bytes = bytesOf(event.data);
      if (!bytes) {
        finish(CLOSE_UNSUPPORTED_DATA, "the desktop stream carries binary messages only");
        return;
      }
      if (stream) {
        stream.write(bytes);
        return;
      }
      earlyBytes += bytes.length;
      if (earlyBytes > MAX_EARLY_INPUT_BYTES) {
        finish(VNC_END_SLOW, "too much input before the desktop stream opened");
        return;
      }
      early.push(bytes);
    },
    onClose: () => {
      closed = true;
      stream?.close();
    },
  };
}
