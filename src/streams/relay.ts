/**
 * The replica relay (behavior.md section 9): a viewer connected to replica B of a chat running on
 * replica A gets A's streamed parts over a replica-to-replica WebSocket. Only parts travel here;
 * durable events reach every replica through pubsub and the database.
 *
 * Authentication is a secret every replica shares through the database (`server_secrets`), never
 * a user's credential. Dials are asynchronous; the caller discards a dial made for a worker the
 * chat no longer runs on.
 */
import { timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import WebSocket from "ws";
import { z } from "zod";
import type { Database } from "../db/client.js";
import { replicas } from "../db/schema/index.js";
import { messagePartEventSchema, previewResetEventSchema, streamFrameSchema, type StreamEvent } from "../sdk/schemas/streams.js";
import { safeJson } from "../util/parse.js";

export const RELAY_SECRET_NAME = "relay_secret";
export const RELAY_SECRET_HEADER = "X-Chatd-Relay-Secret";
export const relayPath = (chatId: string) => `/api/internal/relay/chats/${chatId}/parts`;
/** A relay that does not open within this is abandoned (and redialed by its viewer). */
const RELAY_DIAL_TIMEOUT_MS = 5_000;

export function relaySecretMatches(given: string | undefined, secret: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only parts travel over a relay. */
const relayEventSchema = z.discriminatedUnion("type", [messagePartEventSchema, previewResetEventSchema]);

export interface RelayConnection {
  close(): void;
}

export class RelayDialer {
  constructor(
    private readonly db: Database,
    private readonly secret: string,
  ) {}

  /**
   * Connects to `workerId`'s replica for `chatId`'s parts after `afterPart`. Resolves undefined
   * when the replica is unknown or unreachable; `onClose` fires once the relay ends for any reason.
   */
  async dial(
    chatId: string,
    workerId: string,
    afterPart: { episode: string; seq: number } | undefined,
    handlers: { onEvent(event: StreamEvent): void; onClose(): void },
  ): Promise<RelayConnection | undefined> {
    const [replica] = await this.db.select({ relayAddress: replicas.relayAddress }).from(replicas).where(eq(replicas.id, workerId));
    if (!replica?.relayAddress) return undefined;
    const url = new URL(relayPath(chatId), replica.relayAddress.replace(/^http/, "ws"));
    if (afterPart) url.searchParams.set("after_part", `${afterPart.episode}:${afterPart.seq}`);
    const ws = new WebSocket(url, { headers: { [RELAY_SECRET_HEADER]: this.secret }, handshakeTimeout: RELAY_DIAL_TIMEOUT_MS });
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      handlers.onClose();
    };
    ws.on("message", (data: WebSocket.RawData) => {
      const frame = streamFrameSchema.safeParse(safeJson(data.toString()));
      if (!frame.success || frame.data.type !== "data") return;
      const events = Array.isArray(frame.data.data) ? frame.data.data : [frame.data.data];
      for (const event of events) {
        const parsed = relayEventSchema.safeParse(event);
        if (parsed.success) handlers.onEvent(parsed.data);
      }
    });
    ws.on("close", finish);
    ws.on("error", finish);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once("open", () => resolve(true));
      ws.once("close", () => resolve(false));
      ws.once("error", () => resolve(false));
    });
    if (!opened) return undefined;
    return { close: () => ws.close() };
  }
}
