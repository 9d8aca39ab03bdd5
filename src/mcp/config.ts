/**
 * MCP server configs: the rules a config must satisfy as a whole (transport ↔ url/command, auth
 * kind ↔ its fields), its API views (admin and member) and the connection spec a run connects
 * with, where the sealed secrets are opened. Nothing here logs: a spec holds secrets in the clear.
 */
import { createHash } from "node:crypto";
import { and, eq, inArray, or } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client.js";
import { mcpServerConfigs, mcpServerUserTokens } from "../db/schema/index.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { OAuthExchangeError, refreshTokens, tokenColumns } from "./oauth.js";
import { MCP_AUTH_TYPES, MCP_AVAILABILITIES, MCP_TRANSPORTS, type McpServerResponse } from "../sdk/schemas/mcp.js";

export type { McpServerRow } from "./row.js";
import type { McpServerRow } from "./row.js";
export type McpTransport = (typeof MCP_TRANSPORTS)[number];

/** A sealed custom-headers value opens to this: header name → value. */
const headersObject = z.record(z.string(), z.string());

/** The custom headers sealed in `sealed`; {} when the stored value is not a header object. */
function openHeaders(cipher: SecretCipher, sealed: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(cipher.open(sealed));
  } catch {
    return {};
  }
  const parsed = headersObject.safeParse(raw);
  return parsed.success ? parsed.data : {};
}

/** The config as it would be stored, checked as a whole; returns the first problem, if any. */
export function configProblem(row: {
  transport: string;
  url: string | null;
  command: string | null;
  authType: string;
  apiKeyHeader: string | null;
  apiKeySealed: string;
  oauthClientId: string | null;
  oauthAuthorizeUrl: string | null;
  oauthTokenUrl: string | null;
}): { field: string; detail: string } | undefined {
  if (row.transport === "stdio") {
    if (!row.command) return { field: "command", detail: "A stdio server needs the command to run." };
    if (row.url) return { field: "url", detail: "A stdio server has no URL." };
    // A spawned process gets no HTTP headers; its credentials belong in its own configuration.
    if (row.authType !== "none") return { field: "auth_type", detail: "A stdio server supports auth_type none only." };
  } else {
    if (!row.url || !isHttpUrl(row.url)) return { field: "url", detail: "An HTTP server needs an absolute http:// or https:// URL." };
    if (row.command) return { field: "command", detail: "Only a stdio server runs a command." };
  }
  if (row.authType === "api_key") {
    if (!row.apiKeyHeader) return { field: "api_key_header", detail: "auth_type api_key needs the header that carries the key." };
    if (row.apiKeySealed === "") return { field: "api_key", detail: "auth_type api_key needs the key." };
  }
  if (row.authType === "oauth2") {
    if (!row.oauthClientId) return { field: "oauth_client_id", detail: "auth_type oauth2 needs a client ID." };
    for (const [field, value] of [["oauth_authorize_url", row.oauthAuthorizeUrl], ["oauth_token_url", row.oauthTokenUrl]] as const) {
      if (!value || !isHttpUrl(value)) return { field, detail: `auth_type oauth2 needs ${field} as an absolute http(s) URL.` };
    }
  }
  return undefined;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function oneOf<T extends string>(values: readonly T[], value: string, fallback: T): T {
  return values.find((candidate) => candidate === value) ?? fallback;
}

/** Header names only: which headers are set is configuration, their values are secrets. */
function customHeaderNames(row: McpServerRow, cipher: SecretCipher): string[] {
  if (row.customHeadersSealed === "") return [];
  return Object.keys(openHeaders(cipher, row.customHeadersSealed)).sort();
}

/** What a member sees: nothing that may carry or point at a secret. */
export function toMemberResponse(row: McpServerRow): McpServerResponse {
  return {
    id: row.id,
    slug: row.slug,
    display_name: row.displayName,
    description: row.description,
    transport: oneOf(MCP_TRANSPORTS, row.transport, "streamable_http"),
    auth_type: oneOf(MCP_AUTH_TYPES, row.authType, "none"),
    availability: oneOf(MCP_AVAILABILITIES, row.availability, "default_off"),
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** What an admin sees: everything but secret values, which become `has_*` booleans. */
export function toAdminResponse(row: McpServerRow, cipher: SecretCipher): McpServerResponse {
  return {
    ...toMemberResponse(row),
    url: row.url,
    command: row.command,
    args: row.args,
    api_key_header: row.apiKeyHeader,
    has_api_key: row.apiKeySealed !== "",
    custom_header_names: customHeaderNames(row, cipher),
    has_custom_headers: row.customHeadersSealed !== "",
    oauth_client_id: row.oauthClientId,
    has_oauth_client_secret: row.oauthClientSecretSealed !== "",
    oauth_authorize_url: row.oauthAuthorizeUrl,
    oauth_token_url: row.oauthTokenUrl,
    oauth_scopes: row.oauthScopes,
    tool_allow_list: row.toolAllowList,
    tool_deny_list: row.toolDenyList,
  };
}

/** How a run reaches one server, secrets opened. Never logged. */
export interface McpServerSpec {
  id: string;
  slug: string;
  displayName: string;
  transport: McpTransport;
  url: string | null;
  command: string | null;
  args: string[];
  headers: Record<string, string>;
  toolAllowList: string[];
  toolDenyList: string[];
  /**
   * The pool's key: one connection per server, or per server and user when the credential is the
   * user's own (OAuth 2), so one user's token never serves another's calls.
   */
  poolKey: string;
  /** Changes whenever anything the connection depends on changes, secrets included (hashed). */
  fingerprint: string;
}

/** A server a run could not get a spec for (an OAuth 2 server the owner never connected). */
export interface McpSpecProblem {
  slug: string;
  displayName: string;
  reason: string;
}

/** The enabled configs among `ids`, plus every enabled force_on one. */
export async function serversForChat(q: Queryable, ids: readonly string[]): Promise<McpServerRow[]> {
  const forced = eq(mcpServerConfigs.availability, "force_on");
  const chosen = ids.length > 0 ? or(forced, inArray(mcpServerConfigs.id, [...ids])) : forced;
  return q.select().from(mcpServerConfigs).where(and(eq(mcpServerConfigs.enabled, true), chosen)).orderBy(mcpServerConfigs.slug);
}

/** Connection specs for a chat's servers, with the owner's OAuth tokens where needed. */
export async function specsForChat(
  q: Queryable,
  cipher: SecretCipher,
  ownerId: string,
  ids: readonly string[],
): Promise<{ specs: McpServerSpec[]; problems: McpSpecProblem[] }> {
  const rows = await serversForChat(q, ids);
  const oauthIds = rows.filter((row) => row.authType === "oauth2").map((row) => row.id);
  const tokens =
    oauthIds.length === 0
      ? []
      : await q
          .select()
          .from(mcpServerUserTokens)
          .where(and(eq(mcpServerUserTokens.userId, ownerId), inArray(mcpServerUserTokens.serverId, oauthIds)));
  const specs: McpServerSpec[] = [];
  const problems: McpSpecProblem[] = [];
  for (const row of rows) {
    const headers: Record<string, string> = {};
    let poolKey = row.id;
    if (row.authType === "api_key" && row.apiKeyHeader && row.apiKeySealed !== "") {
      headers[row.apiKeyHeader] = cipher.open(row.apiKeySealed);
    } else if (row.authType === "custom_headers" && row.customHeadersSealed !== "") {
      Object.assign(headers, openHeaders(cipher, row.customHeadersSealed));
    } else if (row.authType === "oauth2") {
      const stored = tokens.find((candidate) => candidate.serverId === row.id);
      const token = stored ? await freshToken(q, cipher, row, stored) : undefined;
      if (!token) {
        problems.push({ slug: row.slug, displayName: row.displayName, reason: "the chat owner has not connected an account (OAuth 2) to it, or its token expired" });
        continue;
      }
      headers.Authorization = `${token.tokenType} ${token.accessToken}`;
      poolKey = `${row.id}:${ownerId}`;
    }
    const fingerprint = createHash("sha256")
      .update(JSON.stringify([row.transport, row.url, row.command, row.args, headers]))
      .digest("hex");
    specs.push({
      id: row.id,
      slug: row.slug,
      displayName: row.displayName,
      transport: oneOf(MCP_TRANSPORTS, row.transport, "streamable_http"),
      url: row.url,
      command: row.command,
      args: row.args,
      headers,
      toolAllowList: row.toolAllowList,
      toolDenyList: row.toolDenyList,
      poolKey,
      fingerprint,
    });
  }
  return { specs, problems };
}

/** Refresh this long before expiry, so a token does not expire in the middle of a run's first call. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

/**
 * The owner's usable token: the stored one while it is valid, else one refreshed with the stored
 * refresh token (and stored again); undefined when neither works.
 */
async function freshToken(
  q: Queryable,
  cipher: SecretCipher,
  row: McpServerRow,
  stored: typeof mcpServerUserTokens.$inferSelect,
): Promise<{ tokenType: string; accessToken: string } | undefined> {
  if (stored.expiresAt === null || stored.expiresAt.getTime() - TOKEN_REFRESH_MARGIN_MS > Date.now()) {
    return { tokenType: stored.tokenType || "Bearer", accessToken: cipher.open(stored.accessTokenSealed) };
  }
  if (stored.refreshTokenSealed === "") return undefined;
  try {
    const tokens = await refreshTokens(cipher, row, cipher.open(stored.refreshTokenSealed));
    await q
      .update(mcpServerUserTokens)
      .set(tokenColumns(cipher, tokens))
      .where(and(eq(mcpServerUserTokens.serverId, stored.serverId), eq(mcpServerUserTokens.userId, stored.userId)));
    return { tokenType: tokens.tokenType, accessToken: tokens.accessToken };
  } catch (error) {
    if (error instanceof OAuthExchangeError) return undefined;
    throw error;
  }
}

/** behavior.md section 6: an allow-list, when set, wins; otherwise the deny-list removes. */
export function toolPermitted(spec: Pick<McpServerSpec, "toolAllowList" | "toolDenyList">, tool: string): boolean {
  if (spec.toolAllowList.length > 0) return spec.toolAllowList.includes(tool);
  return !spec.toolDenyList.includes(tool);
}
