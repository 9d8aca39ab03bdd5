/**
 * The typed stream client: follows one chat's WebSocket, parses every event, and on a dropped
 * connection reconnects with backoff and its cursor (the last message id and the last part's
 * episode:seq), so the caller sees each event once, in order, across reconnects.
 */
import WebSocket from "ws";
import { streamEventSchema, streamFrameSchema, type StreamEvent } from "./schemas/streams.js";
import { ChatdError, type ChatdClient } from "./client.js";
import { safeJson } from "../util/parse.js";

export type { StreamEvent };

/** First reconnect delay, and its cap: quick after a blip, gentle on a restarting server. */
export const RECONNECT_INITIAL_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 5_000;

export interface FollowOptions {
  onEvent(event: StreamEvent): void;
  /** Called when a connection drops and the client will reconnect. */
  onReconnect?(delayMs: number, reason: string): void;
  /** Stops following (resolves the returned promise). */
  signal: AbortSignal;
  afterId?: number;
}

export async function followChat(client: ChatdClient, chatId: string, options: FollowOptions): Promise<void> {
  let afterId = options.afterId ?? 0;
  let afterPart: string | undefined;
  let delay = RECONNECT_INITIAL_DELAY_MS;
  while (!options.signal.aborted) {
    const url = new URL(`${client.baseUrl.replace(/^http/, "ws")}/api/experimental/chats/${encodeURIComponent(chatId)}/stream`);
    url.searchParams.set("after_id", String(afterId));
    if (afterPart) url.searchParams.set("after_part", afterPart);
    const reason = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { headers: { Authorization: client.authorization } });
      const stop = () => ws.close();
      options.signal.addEventListener("abort", stop, { once: true });
      ws.on("open", () => {
        delay = RECONNECT_INITIAL_DELAY_MS;
      });
      ws.on("message", (data: WebSocket.RawData) => {
        const frame = streamFrameSchema.safeParse(safeJson(data.toString()));
        if (!frame.success) return;
        if (frame.data.type === "error") return;
        if (frame.data.type !== "data") return;
        const events = Array.isArray(frame.data.data) ? frame.data.data : [frame.data.data];
        for (const raw of events) {
          const parsed = streamEventSchema.safeParse(raw);
          if (!parsed.success) continue;
          const event = parsed.data;
          if (event.type === "message") afterId = Math.max(afterId, event.message.id);
          if (event.type === "message_part") afterPart = `${event.message_part.episode}:${event.message_part.seq}`;
          options.onEvent(event);
        }
      });
      ws.on("unexpected-response", (_request, response) => {
        resolve(`HTTP ${response.statusCode ?? "?"}`);
        ws.terminate();
      });
      ws.on("error", (error) => resolve(error.message));
      ws.on("close", (code) => {
        options.signal.removeEventListener("abort", stop);
        resolve(`closed (${code})`);
      });
    });
    if (options.signal.aborted) return;
    // A refusal (unknown chat, bad credential) will not go away by retrying.
    const status = /^HTTP (4\d\d)$/.exec(reason);
    if (status?.[1]) throw new ChatdError(Number(status[1]), `the server refused the stream (${reason})`);
    options.onReconnect?.(delay, reason);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", done);
        resolve();
      }
      options.signal.addEventListener("abort", done, { once: true });
    });
    delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
  }
}
