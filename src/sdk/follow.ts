/**
 * The stream followers, independent of the WebSocket implementation: `followChat` follows one
 * chat's `/stream`, `followWatch` the caller's chat list (`/watch`). Both parse every frame with
 * the wire schemas, and on a dropped connection reconnect with backoff (RECONNECT_INITIAL_DELAY_MS
 * doubling up to RECONNECT_MAX_DELAY_MS, back to the start once a connection opens).
 *
 * - `followChat` resumes exactly: it reconnects with its cursor, the last message id and the last
 *   part's `episode:seq` (or `episode:0` after a `preview_reset`), so across reconnects the caller
 *   sees each event once, in order. Parts are also gated here (within an episode only a higher
 *   `seq` passes), so a part is never delivered twice whatever the server resends.
 * - `followWatch` cannot resume (events during a gap are lost), so it calls `onOpen` on every
 *   (re)connection, once the server is subscribed: the caller refetches its list then.
 * - A browser cannot see the HTTP status of a refused upgrade. When a socket closes without ever
 *   opening, the follower asks the API (`getChat`, or `me` for the watch); a 4xx answer (the chat
 *   is gone, the session expired) ends the follow by throwing that `ChatdError`.
 *
 * Browser-safe: the socket comes from a factory (`connect`); the default is the global WebSocket
 * (browsers send the session cookie with it). Node passes one built on `ws` (stream.ts).
 */
import { ChatdError, type ChatdClient } from "./client.js";
import {
  chatWatchEventSchema,
  streamEventSchema,
  streamFrameSchema,
  type ChatWatchEvent,
  type StreamEvent,
  type StreamFrame,
} from "./schemas/streams.js";
import { safeJson } from "../util/parse.js";

/** First reconnect delay, and its cap: quick after a blip, gentle on a restarting server. */
export const RECONNECT_INITIAL_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 5_000;

export type SocketEventType = "open" | "message" | "close" | "error";

/** What the followers read of a socket event: `data` of a message (a string for text frames), `code` of a close. */
export interface SocketEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly message?: unknown;
}

/** The part of the WHATWG WebSocket API that both the browser's WebSocket and `ws` implement. */
export interface WebSocketLike {
  addEventListener(type: SocketEventType, listener: (event: SocketEvent) => void): void;
  removeEventListener(type: SocketEventType, listener: (event: SocketEvent) => void): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => WebSocketLike;

/** The global WebSocket (every browser; Node 22 and later). */
export const globalSocketFactory: SocketFactory = (url) => {
  if (typeof globalThis.WebSocket !== "function") throw new Error("no global WebSocket here; pass a socket factory (`connect`)");
  return new globalThis.WebSocket(url);
};

interface CommonOptions {
  /** Called when a connection drops and the follower will reconnect after `delayMs`. */
  onReconnect?(delayMs: number, reason: string): void;
  /** Stops following: the returned promise resolves. */
  signal: AbortSignal;
  /** Makes the sockets; the global WebSocket by default. */
  connect?: SocketFactory;
}

export interface FollowOptions extends CommonOptions {
  onEvent(event: StreamEvent): void;
  /** Resume after this message id (0: send the whole visible history). */
  afterId?: number;
}

export interface WatchOptions extends CommonOptions {
  onEvent(event: ChatWatchEvent): void;
  /** Called on every (re)connection once the server is subscribed; events before it may be lost. */
  onOpen?(): void;
}

type Connection = { opened: true; reason: string } | { opened: false; reason: string };

/** One socket's life: resolves when it closes (or the signal aborts). */
function connectOnce(
  connect: SocketFactory,
  url: string,
  signal: AbortSignal,
  onOpen: () => void,
  onFrame: (frame: StreamFrame, first: boolean) => void,
): Promise<Connection> {
  return new Promise((resolve) => {
    let socket: WebSocketLike;
    try {
      socket = connect(url);
    } catch (error) {
      resolve({ opened: false, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    let opened = false;
    let frames = 0;
    let failure: string | undefined;
    let done = false;
    const finish = (reason: string) => {
      if (done) return;
      done = true;
      socket.removeEventListener("open", handleOpen);
      socket.removeEventListener("message", handleMessage);
      socket.removeEventListener("error", handleError);
      socket.removeEventListener("close", handleClose);
      signal.removeEventListener("abort", handleAbort);
      resolve({ opened, reason });
    };
    const handleOpen = () => {
      opened = true;
      onOpen();
    };
    const handleMessage = (event: SocketEvent) => {
      if (done || typeof event.data !== "string") return;
      const frame = streamFrameSchema.safeParse(safeJson(event.data));
      if (frame.success) onFrame(frame.data, frames++ === 0);
    };
    const handleError = (event: SocketEvent) => {
      failure ??= typeof event.message === "string" && event.message !== "" ? event.message : "connection error";
    };
    const handleClose = (event: SocketEvent) => finish(failure ?? `closed (${event.code ?? "?"})`);
    const handleAbort = () => {
      finish("aborted");
      socket.close();
    };
    socket.addEventListener("open", handleOpen);
    socket.addEventListener("message", handleMessage);
    socket.addEventListener("error", handleError);
    socket.addEventListener("close", handleClose);
    if (signal.aborted) handleAbort();
    else signal.addEventListener("abort", handleAbort, { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Why a socket never opened, asked of the API: a 4xx (gone, forbidden, logged out) is thrown;
 * anything else (a network error, a 5xx, an answer) means "try again".
 */
async function checkRefusal(probe: () => Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (error) {
    if (error instanceof ChatdError && error.status >= 400 && error.status < 500) throw error;
  }
}

interface Loop {
  url(): string;
  /** Asked when a socket closed without opening (see checkRefusal). */
  probe(): Promise<unknown>;
  /** `first`: the connection's first frame. */
  onFrame(frame: StreamFrame, first: boolean): void;
}

async function followLoop(options: CommonOptions, loop: Loop): Promise<void> {
  const connect = options.connect ?? globalSocketFactory;
  let delay = RECONNECT_INITIAL_DELAY_MS;
  while (!options.signal.aborted) {
    const connection = await connectOnce(
      connect,
      loop.url(),
      options.signal,
      () => {
        delay = RECONNECT_INITIAL_DELAY_MS;
      },
      loop.onFrame,
    );
    if (options.signal.aborted) return;
    if (!connection.opened) await checkRefusal(loop.probe);
    if (options.signal.aborted) return;
    options.onReconnect?.(delay, connection.reason);
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
  }
}

/** The events a `data` frame carries: an array (chat streams) or one event (the watch). */
const frameEvents = (frame: StreamFrame): unknown[] => (frame.type !== "data" ? [] : Array.isArray(frame.data) ? frame.data : [frame.data]);

/** Follows one chat until `signal` aborts; throws a `ChatdError` when the server refuses it for good. */
export async function followChat(client: ChatdClient, chatId: string, options: FollowOptions): Promise<void> {
  let afterId = options.afterId ?? 0;
  /** The last part delivered (the gate and the resume cursor). */
  let episode: string | undefined;
  let seq = 0;
  const path = `/api/experimental/chats/${encodeURIComponent(chatId)}/stream`;
  await followLoop(options, {
    url: () => {
      const query = new URLSearchParams({ after_id: String(afterId) });
      if (episode !== undefined) query.set("after_part", `${episode}:${seq}`);
      return client.socketUrl(path, query);
    },
    probe: () => client.getChat(chatId),
    onFrame: (frame) => {
      for (const raw of frameEvents(frame)) {
        const parsed = streamEventSchema.safeParse(raw);
        if (!parsed.success) continue;
        const event = parsed.data;
        if (event.type === "message_part") {
          const part = event.message_part;
          if (part.episode === episode && part.seq <= seq) continue;
          episode = part.episode;
          seq = part.seq;
        } else if (event.type === "preview_reset") {
          episode = event.preview_reset.episode;
          seq = 0;
        } else if (event.type === "message") {
          afterId = Math.max(afterId, event.message.id);
        }
        options.onEvent(event);
      }
    },
  });
}

/** Follows the caller's chat list until `signal` aborts; throws a `ChatdError` when the session is refused. */
export async function followWatch(client: ChatdClient, options: WatchOptions): Promise<void> {
  await followLoop(options, {
    url: () => client.socketUrl("/api/experimental/chats/watch"),
    probe: () => client.me(),
    onFrame: (frame, first) => {
      // The server's first frame (a ping) follows its subscription: from here no event is missed.
      if (first) options.onOpen?.();
      for (const raw of frameEvents(frame)) {
        const parsed = chatWatchEventSchema.safeParse(raw);
        if (parsed.success) options.onEvent(parsed.data);
      }
    },
  });
}
