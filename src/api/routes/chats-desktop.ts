/**
 * `GET /api/experimental/chats/{chat}/stream/desktop` (behavior.md section 3): a binary WebSocket
 * bicopied to the VNC server (x11vnc, RFB 3.8) on the desktop of the chat's workspace agent,
 * wherever that agent is connected. The viewer speaks RFB from the first byte; nothing is added.
 *
 * Checks, in order: the chat may be read (404 as every chat route); it has a workspace (400); the
 * caller holds `application_connect` or `ssh` on that workspace (403; Coder PR #23073: reading a
 * chat, which admins may do for any chat, must not hand over the owner's screen and keyboard);
 * the workspace's agent is connected (400). Only then is the socket upgraded and the stream
 * opened, within DESKTOP_DIAL_TIMEOUT_MS; a failed open closes the socket with 1011.
 *
 * No read limit in the reference: here the upgrade shares the server's `ws` WebSocketServer, whose
 * cap on one incoming message is ws's default 100 MiB. Viewer messages (keys, pointer, clipboard)
 * are tiny next to that, and the large direction, framebuffer updates to the viewer, has no cap.
 */
import { upgradeWebSocket } from "@hono/node-server";
import { and, eq } from "drizzle-orm";
import type { Hono } from "hono";
import type { Queryable } from "../../db/client.js";
import { workspaces } from "../../db/schema/index.js";
import { ancestorChatIds } from "../../chats/tree.js";
import { can, type Subject } from "../../rbac/policy.js";
import { policyObjectFor, shareRoleOf } from "../../workspaces/access.js";
import { AgentUnavailableError } from "../../workspaces/agent-conn/errors.js";
import type { AppEnv } from "../context.js";
import { requireActor } from "../context.js";
import { badRequest, forbidden } from "../errors.js";
import type { ApiServices } from "../services.js";
import { CHATS_PATH, loadChat } from "./chats-common.js";
import { requireUpgrade } from "./streams.js";
import { vncBridge } from "./vnc-bridge.js";

/** behavior.md: the dial to the agent's VNC server gives up after 30 s (it may start the desktop). */
export const DESKTOP_DIAL_TIMEOUT_MS = 30_000;

const NO_WORKSPACE = "Chat has no workspace.";

/** 403 unless `subject` may use the workspace's apps or shell: either lets it act as the owner. */
async function requireDesktopAccess(q: Queryable, subject: Subject, workspaceId: string): Promise<void> {
  const [row] = await q
    .select({ ownerId: workspaces.ownerId })
    .from(workspaces)
    .where(and(eq(workspaces.id, workspaceId), eq(workspaces.deleted, false)))
    .limit(1);
  if (!row) throw badRequest(NO_WORKSPACE, "The chat's workspace was deleted.");
  const object = policyObjectFor(row, await shareRoleOf(q, workspaceId, subject));
  if (!can(subject, "application_connect", object) && !can(subject, "ssh", object)) {
    throw forbidden("You do not have permission to connect to this workspace's desktop.");
  }
}

export function registerChatDesktopRoutes(app: Hono<AppEnv>, services: ApiServices): void {
  const { db } = services.database;
  app.get(`${CHATS_PATH}/:chat/stream/desktop`, async (c) => {
    const actor = requireActor(c);
    const chat = await loadChat(db, actor, c.req.param("chat"));
    if (!chat.workspaceId) throw badRequest(NO_WORKSPACE);
    await requireDesktopAccess(db, actor.subject, chat.workspaceId);
    const context = { chat_id: chat.id, ancestor_chat_ids: await ancestorChatIds(db, chat.parentChatId) };
    const agent = await services.agents.directory.forWorkspace(chat.workspaceId, context).catch((error: unknown) => {
      if (error instanceof AgentUnavailableError) throw badRequest("The chat's workspace agent is not connected.", error.message);
      throw error;
    });
    requireUpgrade(c);
    const log = c.get("log");
    return upgradeWebSocket(
      c,
      vncBridge((handlers) => agent.openDesktopVnc(handlers, { timeoutMs: DESKTOP_DIAL_TIMEOUT_MS }), {
        announceOpen: false,
        onSlowViewer: () => log.info({ chat_id: chat.id }, "desktop viewer cut off: it was not reading"),
      }),
    );
  });
}
