/**
 * Endpoints the workspace agent uses, authenticated with its own token (never a user's):
 * - `GET /api/v2/workspaceagents/me/connect`: the agent's RPC WebSocket (agent/protocol.ts).
 * - `GET /api/v2/workspaceagents/me/gitauth`: the owner's git token for `chatd gitaskpass`,
 *   recording the branch and origin as the chat's diff status (gitauth/).
 * And the replica-to-replica forwarding endpoints (relay secret only; workspaces/agent-conn/forward.ts):
 * one call, a git watch, a desktop VNC stream.
 */
import { upgradeWebSocket } from "@hono/node-server";
import { eq } from "drizzle-orm";
import type { Context, Hono } from "hono";
import type { WSContext } from "hono/ws";
import { AGENT_CONNECT_PATH, AGENT_GIT_AUTH_PATH, gitAuthQuerySchema, gitAuthResponseSchema, type GitWatchMessage } from "../../agent/protocol.js";
import { workspaces } from "../../db/schema/index.js";
import { latestBuildRow } from "../../workspaces/builds.js";
import { markDiffStatusStale } from "../../gitauth/diff-status.js";
import { openGitToken, providerForUrl } from "../../gitauth/tokens.js";
import { pubsubHints } from "../../chats/hints.js";
import { authenticateAgent, type AgentRow } from "../../workspaces/agents.js";
import { AgentCallError, AgentUnavailableError, type AgentStream } from "../../workspaces/agent-conn/errors.js";
import {
  agentDesktopVncPath,
  agentGitWatchPath,
  agentRpcPath,
  desktopVncQuerySchema,
  forwardedCallSchema,
  gitWatchClientMessageSchema,
  type ForwardedAnswer,
} from "../../workspaces/agent-conn/forward.js";
import { relaySecretMatches, RELAY_SECRET_HEADER } from "../../streams/relay.js";
import { isUuid, safeJson } from "../../util/parse.js";
import type { AppEnv } from "../context.js";
import { badRequest, HttpError, notFound, unauthorized } from "../errors.js";
import { bearerToken } from "../middleware.js";
import type { ApiServices } from "../services.js";
import { requireUpgrade } from "./streams.js";
import { vncBridge } from "./vnc-bridge.js";

/** The git user name GitHub expects alongside a token used as the password. */
const GITHUB_TOKEN_USERNAME = "x-access-token";

/**
 * The agent the request's token belongs to. Only the agent of the workspace's latest build, and
 * only while that build is a start, is let in: a stopped workspace's old agent must not come back.
 */
async function requireAgent(c: Context<AppEnv>, services: ApiServices): Promise<AgentRow> {
  const token = bearerToken(c.req.header("Authorization"));
  const agent = token ? await authenticateAgent(services.database.db, token) : undefined;
  if (!agent) throw unauthorized("Invalid workspace agent token.");
  const latest = await latestBuildRow(services.database.db, agent.workspaceId);
  if (!latest || latest.id !== agent.buildId || latest.transition !== "start") {
    throw unauthorized("Workspace agent token is no longer valid.", "The workspace was stopped or rebuilt since this agent was started.");
  }
  return agent;
}

function requireRelay(c: Context<AppEnv>, services: ApiServices): void {
  if (!services.relaySecret || !relaySecretMatches(c.req.header(RELAY_SECRET_HEADER), services.relaySecret)) {
    throw new HttpError(401, "Relay authentication failed.");
  }
}

export function registerWorkspaceAgentRoutes(app: Hono<AppEnv>, services: ApiServices): void {
  const { db } = services.database;
  const { connections } = services.agents;

  app.get(AGENT_CONNECT_PATH, async (c) => {
    const agent = await requireAgent(c, services);
    requireUpgrade(c);
    const handlers = connections.accept(agent);
    return upgradeWebSocket(c, {
      onOpen: (_event, ws: WSContext) => handlers.onOpen(ws),
      onMessage: (event) => handlers.onMessage(event.data),
      onClose: () => handlers.onClose(),
      onError: () => handlers.onClose(),
    });
  });

  app.get(AGENT_GIT_AUTH_PATH, async (c) => {
    const agent = await requireAgent(c, services);
    const query = gitAuthQuerySchema.safeParse(Object.fromEntries(new URL(c.req.url).searchParams));
    if (!query.success) throw badRequest("Invalid git credential request.");
    const [workspace] = await db.select({ ownerId: workspaces.ownerId }).from(workspaces).where(eq(workspaces.id, agent.workspaceId));
    if (!workspace) throw notFound();
    const { chat_id: chatId, git_branch: branch, git_remote_origin: remoteOrigin, url } = query.data;
    if (chatId !== undefined && !isUuid(chatId)) throw badRequest("Invalid chat ID.");
    // Recorded whether or not a token exists: the chat is working on this branch either way.
    if (branch && remoteOrigin) {
      await markDiffStatusStale(db, pubsubHints(services.pubsub), {
        workspaceId: agent.workspaceId,
        ownerId: workspace.ownerId,
        ...(chatId ? { chatId } : {}),
        ref: { branch, remoteOrigin },
      });
    }
    const provider = providerForUrl(url);
    const token = provider ? await openGitToken(db, services.cipher, workspace.ownerId, provider) : undefined;
    if (!token) throw notFound("No git credentials for this host.");
    return c.json(gitAuthResponseSchema.parse({ username: GITHUB_TOKEN_USERNAME, password: token }));
  });

  app.post(agentRpcPath(":agent"), async (c) => {
    requireRelay(c, services);
    const agentId = c.req.param("agent");
    if (!agentId || !isUuid(agentId)) throw badRequest("Invalid agent ID.");
    const call = forwardedCallSchema.safeParse(safeJson(await c.req.text()));
    if (!call.success) throw badRequest("Invalid forwarded call.");
    const { method, params, timeout_ms: timeoutMs, ...context } = call.data;
    let answer: ForwardedAnswer;
    try {
      const result = await connections.callRaw(agentId, method, params, context, timeoutMs === undefined ? {} : { timeoutMs });
      answer = { ok: true, result };
    } catch (error) {
      if (error instanceof AgentCallError) answer = { ok: false, error: { code: error.code, message: error.message } };
      else if (error instanceof AgentUnavailableError) answer = { ok: false, unavailable: error.message };
      else throw error;
    }
    return c.json(answer);
  });

  app.get(agentGitWatchPath(":agent"), (c) => {
    requireRelay(c, services);
    const agentId = c.req.param("agent");
    if (!agentId || !isUuid(agentId)) throw badRequest("Invalid agent ID.");
    const search = new URL(c.req.url).searchParams;
    const chatId = search.get("chat_id") ?? undefined;
    const context = { ...(chatId ? { chat_id: chatId } : {}), ancestor_chat_ids: search.getAll("ancestor_chat_id") };
    requireUpgrade(c);
    return upgradeWebSocket(c, gitWatchBridge((onMessage) => connections.openGitWatch(agentId, context, onMessage)));
  });

  app.get(agentDesktopVncPath(":agent"), (c) => {
    requireRelay(c, services);
    const agentId = c.req.param("agent");
    if (!agentId || !isUuid(agentId)) throw badRequest("Invalid agent ID.");
    const search = new URL(c.req.url).searchParams;
    const query = desktopVncQuerySchema.safeParse({
      ...Object.fromEntries(search),
      ancestor_chat_id: search.getAll("ancestor_chat_id"),
    });
    if (!query.success) throw badRequest("Invalid forwarded VNC stream request.");
    const { chat_id: chatId, ancestor_chat_id: ancestors, timeout_ms: timeoutMs } = query.data;
    const context = { ...(chatId ? { chat_id: chatId } : {}), ancestor_chat_ids: ancestors };
    requireUpgrade(c);
    return upgradeWebSocket(
      c,
      vncBridge((handlers) => connections.openDesktopVnc(agentId, context, handlers, timeoutMs === undefined ? {} : { timeoutMs }), { announceOpen: true }),
    );
  });
}

/**
 * WebSocket handlers that pipe one git watch to a client: messages out as JSON, `{type:"refresh"}`
 * in. Used by the user-facing `/chats/{chat}/stream/git` and by the replica forwarding endpoint.
 */
export function gitWatchBridge(open: (onMessage: (message: GitWatchMessage) => void) => Promise<AgentStream>) {
  let stream: AgentStream | undefined;
  let closed = false;
  return {
    onOpen: (_event: Event, ws: WSContext) => {
      open((message) => {
        if (closed) return;
        ws.send(JSON.stringify(message));
        if (message.type === "error") ws.close(1011, "git watch ended");
      })
        .then((opened) => {
          if (closed) opened.close();
          else stream = opened;
        })
        .catch((error: unknown) => {
          ws.send(JSON.stringify({ type: "error", message: error instanceof Error ? error.message : String(error) }));
          ws.close(1011, "git watch failed");
        });
    },
    onMessage: (event: MessageEvent) => {
      const message = gitWatchClientMessageSchema.safeParse(safeJson(typeof event.data === "string" ? event.data : String(event.data)));
      if (message.success) stream?.refresh().catch(() => undefined);
    },
    onClose: () => {
      closed = true;
      stream?.close();
    },
  };
}
