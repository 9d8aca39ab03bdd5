/**
 * The chat WebSockets: `/chats/{chat}/stream` (one chat's events) and `/chats/watch` (the caller's
 * chat list). Authentication and the chat lookup happen before the upgrade, so a refused client
 * gets an ordinary JSON error. Browsers authenticate with the session cookie, other clients with
 * the Authorization header; never a query-string token.
 */
import { upgradeWebSocket } from "@hono/node-server";
import type { Context, Hono } from "hono";
import type { WSContext } from "hono/ws";
import { partEvent, resumeParts, runChatStream, type ResumePoint } from "../../streams/chat-stream.js";
import { relayPath, relaySecretMatches, RELAY_SECRET_HEADER } from "../../streams/relay.js";
import { EventSocket } from "../../streams/socket.js";
import { runWatch } from "../../streams/watch.js";
import type { ChatWatchEvent, StreamEvent } from "../../sdk/schemas/streams.js";
import type { AppEnv } from "../context.js";
import { requireActor } from "../context.js";
import { badRequest } from "../errors.js";
import type { ApiServices } from "../services.js";
import { CHATS_PATH, isUuid, loadChat } from "./chats-common.js";

const AFTER_PART_PATTERN = /^([A-Za-z0-9-]{1,64}):(\d{1,12})$/;

export function requireUpgrade(c: Context<AppEnv>): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw badRequest("This endpoint only speaks WebSocket; send an Upgrade request.");
}

export function parseResume(query: URLSearchParams): ResumePoint {
  const rawAfterId = query.get("after_id");
  let afterId = 0;
  if (rawAfterId !== null && rawAfterId !== "") {
    if (!/^\d{1,18}$/.test(rawAfterId) || !Number.isSafeInteger(Number(rawAfterId))) throw badRequest("Invalid after_id parameter.");
    afterId = Number(rawAfterId);
  }
  const rawAfterPart = query.get("after_part");
  if (rawAfterPart === null || rawAfterPart === "") return { afterId };
  const match = AFTER_PART_PATTERN.exec(rawAfterPart);
  if (!match?.[1] || !match[2]) throw badRequest("Invalid after_part parameter.", "Expected <episode>:<seq>.");
  return { afterId, afterPart: { episode: match[1], seq: Number(match[2]) } };
}

export function registerStreamRoutes(app: Hono<AppEnv>, services: ApiServices): void {
  const { db } = services.database;

  // Replica to replica: the parts of a chat running here. Authenticated by the shared relay
  // secret only; never reachable with a user's credentials.
  app.get(relayPath(":chat"), (c) => {
    if (!services.relaySecret || !relaySecretMatches(c.req.header(RELAY_SECRET_HEADER), services.relaySecret)) {
      return c.json({ message: "Relay authentication failed." }, 401);
    }
    const chatId = c.req.param("chat") ?? "";
    if (!isUuid(chatId)) throw badRequest("Invalid chat ID.");
    const resume = parseResume(new URL(c.req.url).searchParams);
    requireUpgrade(c);
    let socket: EventSocket<StreamEvent> | undefined;
    return upgradeWebSocket(c, {
      onOpen: (_event, ws: WSContext) => {
        const relaySocket = new EventSocket<StreamEvent>(ws, services.streamStats);
        socket = relaySocket;
        const buffered = services.hub.bufferedParts(chatId).flatMap((event) => partEvent(event) ?? []);
        const parts = resumeParts(buffered, services.hub.currentEpisode(chatId), resume.afterPart, chatId);
        const unsubscribe = services.hub.subscribeChat(chatId, (event) => {
          const wire = partEvent(event);
          if (wire) relaySocket.push(wire);
        });
        relaySocket.onClose(unsubscribe);
        relaySocket.push(...parts);
      },
      onClose: () => socket?.close(),
      onError: () => socket?.close(),
    });
  });

  app.get(`${CHATS_PATH}/watch`, (c) => {
    const actor = requireActor(c);
    requireUpgrade(c);
    let socket: EventSocket<ChatWatchEvent> | undefined;
    return upgradeWebSocket(c, {
      onOpen: (_event, ws: WSContext) => {
        socket = new EventSocket<ChatWatchEvent>(ws, services.streamStats, "single");
        void runWatch({ db, pubsub: services.pubsub }, actor.user.id, socket);
      },
      onClose: () => socket?.close(),
      onError: () => socket?.close(),
    });
  });

  app.get(`${CHATS_PATH}/:chat/stream`, async (c) => {
    const actor = requireActor(c);
    const chat = await loadChat(db, actor, c.req.param("chat"));
    const resume = parseResume(new URL(c.req.url).searchParams);
    requireUpgrade(c);
    let socket: EventSocket<StreamEvent> | undefined;
    return upgradeWebSocket(c, {
      onOpen: (_event, ws: WSContext) => {
        socket = new EventSocket<StreamEvent>(ws, services.streamStats);
        void runChatStream(
          { db, pubsub: services.pubsub, hub: services.hub, replicaId: services.replicaId, ...(services.relay ? { relay: services.relay } : {}) },
          chat.id,
          socket,
          resume,
        );
      },
      onClose: () => socket?.close(),
      onError: () => socket?.close(),
    });
  });
}
