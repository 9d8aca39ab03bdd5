/**
 * MCP servers (behavior.md section 1): tool servers an admin configures for chats, and each
 * user's OAuth tokens for the servers that need them. Every secret column holds a value sealed
 * with the deployment's encryption key (secrets/cipher.ts), never the plain text; "" means none.
 */
import { sql } from "drizzle-orm";
import { boolean, check, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./users.js";

export const mcpServerConfigs = pgTable(
  "mcp_server_configs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Tool names are `<slug>__<tool>`: lower-case letters, digits and `_`/`-`. */
    slug: text("slug").notNull(),
    displayName: text("display_name").notNull().default(""),
    description: text("description").notNull().default(""),
    /** streamable_http or sse (url), or stdio (command + args run on the server host). */
    transport: text("transport").notNull().default("streamable_http"),
    url: text("url"),
    command: text("command"),
    args: text("args").array().notNull().default(sql`'{}'::text[]`),
    /** none, api_key (one header), custom_headers, or oauth2 (per-user tokens). */
    authType: text("auth_type").notNull().default("none"),
    apiKeyHeader: text("api_key_header"),
    apiKeySealed: text("api_key_sealed").notNull().default(""),
    /** A sealed JSON object of header name → value. */
    customHeadersSealed: text("custom_headers_sealed").notNull().default(""),
    oauthClientId: text("oauth_client_id"),
    oauthClientSecretSealed: text("oauth_client_secret_sealed").notNull().default(""),
    oauthAuthorizeUrl: text("oauth_authorize_url"),
    oauthTokenUrl: text("oauth_token_url"),
    oauthScopes: text("oauth_scopes").notNull().default(""),
    /** An allow-list wins over the deny-list (behavior.md section 6). */
    toolAllowList: text("tool_allow_list").array().notNull().default(sql`'{}'::text[]`),
    toolDenyList: text("tool_deny_list").array().notNull().default(sql`'{}'::text[]`),
    /** force_on, default_on or default_off: whether chats get it without asking. */
    availability: text("availability").notNull().default("default_off"),
    enabled: boolean("enabled").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("mcp_server_configs_slug_idx").on(t.slug),
    check("mcp_server_configs_transport", sql`${t.transport} IN ('streamable_http', 'sse', 'stdio')`),
    check("mcp_server_configs_auth_type", sql`${t.authType} IN ('none', 'oauth2', 'api_key', 'custom_headers')`),
    check("mcp_server_configs_availability", sql`${t.availability} IN ('force_on', 'default_on', 'default_off')`),
  ],
);

export const mcpServerUserTokens = pgTable(
  "mcp_server_user_tokens",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServerConfigs.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accessTokenSealed: text("access_token_sealed").notNull(),
    refreshTokenSealed: text("refresh_token_sealed").notNull().default(""),
    tokenType: text("token_type").notNull().default("Bearer"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.userId] })],
);
