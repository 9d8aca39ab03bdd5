/**
 * `/api/experimental/mcp/servers` (behavior.md section 3): admins create, change and delete MCP
 * server configs and see every one; members list and read the enabled ones, without any field
 * that may carry a secret. Secrets are sealed at rest and never returned (`has_*` instead).
 */
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { mcpServerConfigs, mcpServerUserTokens } from "../../db/schema/index.js";
import { uniqueViolation } from "../../db/errors.js";
import { can } from "../../rbac/policy.js";
import { configProblem, toAdminResponse, toMemberResponse, type McpServerRow } from "../../mcp/config.js";
import {
  createMcpServerRequestSchema,
  MCP_SLUG_PATTERN,
  mcpServerSchema,
  updateMcpServerRequestSchema,
  type UpdateMcpServerRequest,
} from "../../sdk/schemas/mcp.js";
import { isUuid } from "../../util/parse.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { requireActor, type Actor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { assertDeploymentConfig } from "./llm-providers.js";
import { authorizeUrl, exchangeCode, OAuthExchangeError, openState, redirectUriFor, tokenColumns } from "../../mcp/oauth.js";

export const MCP_SERVERS_PATH = "/api/experimental/mcp/servers";
const NOT_FOUND = "MCP server config not found.";

const serverParams = z.object({ id: z.string().max(64) });

function parseServerId(id: string): string {
  if (!isUuid(id)) throw badRequest("Invalid MCP server config ID.");
  return id.toLowerCase();
}

function isAdmin(actor: Actor): boolean {
  return can(actor.subject, "read", { type: "deployment_config" });
}

function checkSlug(slug: string): void {
  if (!MCP_SLUG_PATTERN.test(slug)) {
    throw badRequest("Invalid MCP server slug.", undefined, [
      { field: "slug", detail: "Use lower-case letters and digits, words joined by single - or _ (tool names are <slug>__<tool>)." },
    ]);
  }
}

/** The columns a create or update body sets; secrets sealed here, "" / {} clearing them. */
function columnsOf(body: UpdateMcpServerRequest, seal: (plain: string) => string): Partial<typeof mcpServerConfigs.$inferInsert> {
  const columns: Partial<typeof mcpServerConfigs.$inferInsert> = {};
  if (body.slug !== undefined) columns.slug = body.slug;
  if (body.display_name !== undefined) columns.displayName = body.display_name;
  if (body.description !== undefined) columns.description = body.description;
  if (body.transport !== undefined) columns.transport = body.transport;
  if (body.url !== undefined) columns.url = body.url === "" ? null : body.url;
  if (body.command !== undefined) columns.command = body.command === "" ? null : body.command;
  if (body.args !== undefined) columns.args = body.args;
  if (body.auth_type !== undefined) columns.authType = body.auth_type;
  if (body.api_key_header !== undefined) columns.apiKeyHeader = body.api_key_header;
  if (body.api_key !== undefined) columns.apiKeySealed = body.api_key === "" ? "" : seal(body.api_key);
  if (body.custom_headers !== undefined) {
    columns.customHeadersSealed = Object.keys(body.custom_headers).length === 0 ? "" : seal(JSON.stringify(body.custom_headers));
  }
  if (body.oauth_client_id !== undefined) columns.oauthClientId = body.oauth_client_id;
  if (body.oauth_client_secret !== undefined) columns.oauthClientSecretSealed = body.oauth_client_secret === "" ? "" : seal(body.oauth_client_secret);
  if (body.oauth_authorize_url !== undefined) columns.oauthAuthorizeUrl = body.oauth_authorize_url;
  if (body.oauth_token_url !== undefined) columns.oauthTokenUrl = body.oauth_token_url;
  if (body.oauth_scopes !== undefined) columns.oauthScopes = body.oauth_scopes;
  if (body.tool_allow_list !== undefined) columns.toolAllowList = body.tool_allow_list;
  if (body.tool_deny_list !== undefined) columns.toolDenyList = body.tool_deny_list;
  if (body.availability !== undefined) columns.availability = body.availability;
  if (body.enabled !== undefined) columns.enabled = body.enabled;
  return columns;
}

/** Refuses a config whose fields do not fit together (checked on the merged, would-be row). */
function checkWhole(row: Parameters<typeof configProblem>[0]): void {
  const problem = configProblem(row);
  if (problem) throw badRequest("Invalid MCP server config.", problem.detail, [problem]);
}

const DEFAULTS = {
  transport: "streamable_http",
  url: null,
  command: null,
  authType: "none",
  apiKeyHeader: null,
  apiKeySealed: "",
  oauthClientId: null,
  oauthAuthorizeUrl: null,
  oauthTokenUrl: null,
} as const;

export function registerMcpServerRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const { cipher } = services;
  const seal = (plain: string) => cipher.seal(plain);
  const common = { tags: ["MCP servers"], auth: "user" as const, query: none };
  const view = (actor: Actor, row: McpServerRow) => (isAdmin(actor) ? toAdminResponse(row, cipher) : toMemberResponse(row));

  routes.add({
    ...common,
    method: "get",
    path: MCP_SERVERS_PATH,
    summary: "List MCP server configs: all for admins, the enabled ones (without secret-bearing fields) for members",
    params: none,
    body: none,
    status: 200,
    response: z.array(mcpServerSchema),
    handler: async ({ c }) => {
      const actor = requireActor(c);
      const admin = isAdmin(actor);
      const rows = await db
        .select()
        .from(mcpServerConfigs)
        .where(admin ? undefined : eq(mcpServerConfigs.enabled, true))
        .orderBy(mcpServerConfigs.slug);
      return rows.map((row) => view(actor, row));
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${MCP_SERVERS_PATH}/:id`,
    summary: "Read one MCP server config (members: enabled ones only)",
    params: serverParams,
    body: none,
    status: 200,
    response: mcpServerSchema,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      const [row] = await db.select().from(mcpServerConfigs).where(eq(mcpServerConfigs.id, parseServerId(params.id)));
      // A disabled config is invisible to members, exactly like a missing one.
      if (!row || (!row.enabled && !isAdmin(actor))) throw notFound(NOT_FOUND);
      return view(actor, row);
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: MCP_SERVERS_PATH,
    summary: "Create an MCP server config; secrets are stored sealed (admin)",
    params: none,
    body: createMcpServerRequestSchema,
    status: 201,
    response: mcpServerSchema,
    handler: async ({ c, body }) => {
      assertDeploymentConfig(requireActor(c), "create");
      checkSlug(body.slug);
      const columns = { ...columnsOf(body, seal), slug: body.slug };
      checkWhole({ ...DEFAULTS, ...columns });
      try {
        const [row] = await db.insert(mcpServerConfigs).values(columns).returning();
        if (!row) throw new Error("insert returned no row");
        return toAdminResponse(row, cipher);
      } catch (error) {
        if (uniqueViolation(error) !== undefined) throw conflict("An MCP server with this slug already exists.");
        throw error;
      }
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: `${MCP_SERVERS_PATH}/:id`,
    summary: "Change an MCP server config; an empty secret removes it (admin)",
    params: serverParams,
    body: updateMcpServerRequestSchema,
    status: 200,
    response: mcpServerSchema,
    handler: async ({ c, params, body }) => {
      assertDeploymentConfig(requireActor(c), "update");
      const id = parseServerId(params.id);
      if (body.slug !== undefined) checkSlug(body.slug);
      const [existing] = await db.select().from(mcpServerConfigs).where(eq(mcpServerConfigs.id, id));
      if (!existing) throw notFound(NOT_FOUND);
      const columns = columnsOf(body, seal);
      checkWhole({ ...existing, ...columns });
      try {
        const [row] = await db
          .update(mcpServerConfigs)
          .set({ ...columns, updatedAt: new Date() })
          .where(eq(mcpServerConfigs.id, id))
          .returning();
        if (!row) throw notFound(NOT_FOUND);
        return toAdminResponse(row, cipher);
      } catch (error) {
        if (uniqueViolation(error) !== undefined) throw conflict("An MCP server with this slug already exists.");
        throw error;
      }
    },
  });

  registerOAuthRoutes(routes, services);

  routes.add({
    ...common,
    method: "delete",
    path: `${MCP_SERVERS_PATH}/:id`,
    summary: "Delete an MCP server config and its users' tokens (admin)",
    params: serverParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      assertDeploymentConfig(requireActor(c), "delete");
      const removed = await db
        .delete(mcpServerConfigs)
        .where(eq(mcpServerConfigs.id, parseServerId(params.id)))
        .returning({ id: mcpServerConfigs.id });
      if (removed.length === 0) throw notFound(NOT_FOUND);
    },
  });
}

/** An enabled oauth2 server the caller may use; anything else answers like a missing one. */
async function oauthServer(services: ApiServices, raw: string): Promise<McpServerRow> {
  const [row] = await services.database.db.select().from(mcpServerConfigs).where(eq(mcpServerConfigs.id, parseServerId(raw)));
  if (!row || !row.enabled) throw notFound(NOT_FOUND);
  if (row.authType !== "oauth2") throw badRequest("This MCP server does not use OAuth 2.");
  return row;
}

/**
 * Per-user OAuth 2 (authorization code + PKCE): `connect` gives the URL to send the browser to,
 * the provider sends it back to `callback` (the same logged-in user), and `disconnect` forgets
 * the user's token. The redirect URI is this server's own origin, as the browser reached it.
 */
function registerOAuthRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const { cipher } = services;
  const common = { tags: ["MCP servers"], auth: "user" as const, body: none };
  const origin = (url: string) => new URL(url).origin;

  routes.add({
    ...common,
    method: "get",
    path: `${MCP_SERVERS_PATH}/:id/oauth2/connect`,
    summary: "Start connecting the caller's account to an OAuth 2 MCP server: the URL to open",
    params: serverParams,
    query: none,
    status: 200,
    response: z.object({ authorize_url: z.string() }).meta({ id: "MCPServerOAuthConnect" }),
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      const row = await oauthServer(services, params.id);
      return { authorize_url: authorizeUrl(cipher, row, actor.user.id, redirectUriFor(origin(c.req.url), row.id)) };
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${MCP_SERVERS_PATH}/:id/oauth2/callback`,
    summary: "Finish connecting: trade the provider's code for the caller's token (stored sealed)",
    params: serverParams,
    query: z.object({ code: z.string().max(4096).optional(), state: z.string().max(8192).optional(), error: z.string().max(256).optional() }),
    status: 200,
    response: z.object({ connected: z.boolean() }).meta({ id: "MCPServerOAuthCallback" }),
    handler: async ({ c, params, query }) => {
      const actor = requireActor(c);
      const row = await oauthServer(services, params.id);
      if (query.error) throw badRequest("The OAuth 2 provider refused the connection.", query.error);
      const state = query.state ? openState(cipher, query.state, row.id, actor.user.id) : undefined;
      if (!state || !query.code) throw badRequest("Invalid or expired OAuth 2 state.");
      const tokens = await exchangeCode(cipher, row, query.code, state.verifier, redirectUriFor(origin(c.req.url), row.id)).catch((error: unknown) => {
        if (error instanceof OAuthExchangeError) throw badRequest("Connecting the MCP server failed.", error.message);
        throw error;
      });
      const values = tokenColumns(cipher, tokens);
      await db
        .insert(mcpServerUserTokens)
        .values({ serverId: row.id, userId: actor.user.id, ...values })
        .onConflictDoUpdate({ target: [mcpServerUserTokens.serverId, mcpServerUserTokens.userId], set: values });
      return { connected: true };
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: `${MCP_SERVERS_PATH}/:id/oauth2/disconnect`,
    summary: "Forget the caller's OAuth 2 token for an MCP server (none stored is not an error)",
    params: serverParams,
    query: none,
    status: 204,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      const id = parseServerId(params.id);
      const [row] = await db.select({ id: mcpServerConfigs.id }).from(mcpServerConfigs).where(eq(mcpServerConfigs.id, id));
      if (!row) throw notFound(NOT_FOUND);
      await db.delete(mcpServerUserTokens).where(and(eq(mcpServerUserTokens.serverId, id), eq(mcpServerUserTokens.userId, actor.user.id)));
    },
  });
}
