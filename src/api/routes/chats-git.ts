/**
 * `GET /api/experimental/chats/{chat}/stream/git` (behavior.md section 3): a JSON WebSocket onto
 * the git watcher of the chat's workspace agent, wherever that agent is connected. The client
 * sends `{type:"refresh"}`; the server sends `{type:"changes"|"error", …}`. Reading the chat is the
 * only check, as in the reference: the watcher reports what the chat's own tools touched.
 */
import { upgradeWebSocket } from "@hono/node-server";
import type { Hono } from "hono";
import { ancestorChatIds } from "../../chats/tree.js";
import { AgentUnavailableError } from "../../workspaces/agent-conn/errors.js";
import type { AppEnv } from "../context.js";
import { requireActor } from "../context.js";
import { badRequest } from "../errors.js";
import type { ApiServices } from "../services.js";
import { CHATS_PATH, loadChat } from "./chats-common.js";
import { requireUpgrade } from "./streams.js";
import { gitWatchBridge } from "./workspace-agents.js";

export function registerChatGitRoutes(app: Hono<AppEnv>, services: ApiServices): void {
  const { db } = services.database;
  app.get(`${CHATS_PATH}/:chat/stream/git`, async (c) => {
    const actor = requireActor(c);
    const chat = await loadChat(db, actor, c.req.param("chat"));
    if (!chat.workspaceId) throw badRequest("Chat has no workspace.");
    const context = { chat_id: chat.id, ancestor_chat_ids: await ancestorChatIds(db, chat.parentChatId) };
    const agent = await services.agents.directory.forWorkspace(chat.workspaceId, context).catch((error: unknown) => {
      if (error instanceof AgentUnavailableError) throw badRequest("The chat's workspace agent is not connected.", error.message);
      throw error;
    });
    requireUpgrade(c);
    return upgradeWebSocket(c, gitWatchBridge((onMessage) => agent.openGitWatch(onMessage)));
  });
}
