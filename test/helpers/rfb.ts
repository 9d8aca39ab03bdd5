/**
 * A minimal RFB 3.8 client over a binary WebSocket (RFC 6143), enough to prove a VNC bridge
 * carries a real handshake: version, security type None, SecurityResult, ClientInit, ServerInit.
 * Reads wait on the socket's messages with a deadline; nothing sleeps.
 */
import WebSocket from "ws";
import { deferred } from "./wait.js";

/** Each step of the handshake must arrive within this (x11vnc answers in milliseconds). */
const READ_DEADLINE_MS = 15_000;
/** RFC 6143 7.1.2: security type None. */
export const RFB_SECURITY_NONE = 1;
/** RFC 6143 7.3.1: ClientInit's shared-flag: leave other viewers connected. */
const SHARED = 1;

export interface ByteSocket {
  ws: WebSocket;
  /** Resolves with the close code once the socket has closed. */
  closed: Promise<number>;
  /** The next `length` bytes, in order; rejects on close or deadline. */
  read(length: number): Promise<Buffer>;
  write(bytes: Uint8Array): void;
}

/** Opens `url` as a binary WebSocket; rejects with the HTTP status if the upgrade is refused. */
export async function openByteSocket(url: string, headers: Record<string, string>): Promise<ByteSocket> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  let closedCode: number | undefined;
  const closed = deferred<number>();
  ws.on("message", (data: WebSocket.RawData) => {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  ws.on("close", (code) => {
    closedCode = code;
    closed.resolve(code);
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode ?? 0}`)));
    ws.once("error", reject);
  });
  const read = async (length: number): Promise<Buffer> => {
    const deadline = Date.now() + READ_DEADLINE_MS;
    while (buffered.length < length) {
      if (closedCode !== undefined) throw new Error(`socket closed (${closedCode}) after ${buffered.length} of ${length} bytes`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`only ${buffered.length} of ${length} bytes within ${READ_DEADLINE_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    const out = buffered.subarray(0, length);
    buffered = buffered.subarray(length);
    return out;
  };
  return { ws, closed: closed.promise, read, write: (bytes) => ws.send(bytes) };
}

export interface ServerInit {
  version: string;
  securityTypes: number[];
  width: number;
  height: number;
  name: string;
}

/** Runs the RFB 3.8 handshake as a viewer that accepts only security type None. */
export async function rfbHandshake(socket: ByteSocket): Promise<ServerInit> {
  const version = (await socket.read(12)).toString("latin1");
  socket.write(Buffer.from("RFB 003.008\n", "latin1"));
  const count = (await socket.read(1)).readUInt8(0);
  if (count === 0) {
    const reasonLength = (await socket.read(4)).readUInt32BE(0);
    throw new Error(`the server refused the connection: ${(await socket.read(reasonLength)).toString("utf8")}`);
  }
  const securityTypes = [...(await socket.read(count))];
  if (!securityTypes.includes(RFB_SECURITY_NONE)) throw new Error(`security type None not offered: ${securityTypes.join(",")}`);
  socket.write(Uint8Array.of(RFB_SECURITY_NONE));
  const result = (await socket.read(4)).readUInt32BE(0);
  if (result !== 0) throw new Error(`SecurityResult ${result}`);
  socket.write(Uint8Array.of(SHARED));
  // ServerInit: width, height (u16 each), a 16-byte pixel format, the name's length (u32), the name.
  const head = await socket.read(2 + 2 + 16 + 4);
  const name = (await socket.read(head.readUInt32BE(20))).toString("utf8");
  return { version, securityTypes, width: head.readUInt16BE(0), height: head.readUInt16BE(2), name };
}
