/**
 * MCP server configs as the API shows and accepts them (behavior.md section 3,
 * `/api/experimental/mcp/servers`). Secrets go in (api_key, custom_headers, oauth_client_secret)
 * but never come out: responses carry `has_*` booleans, and members see only the fields that
 * cannot bear a secret (no URL, command, args or header names).
 */
import { z } from "zod";

export const MCP_TRANSPORTS = ["streamable_http", "sse", "stdio"] as const;
export const MCP_AUTH_TYPES = ["none", "oauth2", "api_key", "custom_headers"] as const;
export const MCP_AVAILABILITIES = ["force_on", "default_on", "default_off"] as const;

/**
 * Tool names are `<slug>__<tool>` and providers cap names at 64 characters: a short slug of
 * lower-case words joined by single `-` or `_` (never `__`, which separates slug from tool).
 */
export const MCP_SLUG_PATTERN = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
export const MAX_MCP_SLUG_LENGTH = 32;
/** Header values and keys: real ones are a few hundred bytes at most. */
const MAX_SECRET_LENGTH = 8192;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A tool list longer than this is a mistake, not a configuration. */
const MAX_TOOL_LIST = 500;
const MAX_ARGS = 100;

const headerName = z.string().trim().min(1).max(256).regex(HEADER_NAME, "Must be an HTTP header name.");
const toolList = z.array(z.string().trim().min(1).max(256)).max(MAX_TOOL_LIST);

export const mcpServerSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    display_name: z.string(),
    description: z.string(),
    transport: z.enum(MCP_TRANSPORTS),
    auth_type: z.enum(MCP_AUTH_TYPES),
    availability: z.enum(MCP_AVAILABILITIES),
    enabled: z.boolean(),
    /** Admins only from here on: fields that may carry or point at a secret. */
    url: z.string().nullable().optional(),
    command: z.string().nullable().optional(),
    args: z.array(z.string()).optional(),
    api_key_header: z.string().nullable().optional(),
    has_api_key: z.boolean().optional(),
    custom_header_names: z.array(z.string()).optional(),
    has_custom_headers: z.boolean().optional(),
    oauth_client_id: z.string().nullable().optional(),
    has_oauth_client_secret: z.boolean().optional(),
    oauth_authorize_url: z.string().nullable().optional(),
    oauth_token_url: z.string().nullable().optional(),
    oauth_scopes: z.string().optional(),
    tool_allow_list: z.array(z.string()).optional(),
    tool_deny_list: z.array(z.string()).optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: "MCPServerConfig" });
export type McpServerResponse = z.infer<typeof mcpServerSchema>;

const mcpServerFields = {
  display_name: z.string().trim().max(128),
  description: z.string().trim().max(2048),
  transport: z.enum(MCP_TRANSPORTS),
  url: z.string().trim().max(2048).nullable(),
  command: z.string().trim().max(4096).nullable(),
  args: z.array(z.string().max(4096)).max(MAX_ARGS),
  auth_type: z.enum(MCP_AUTH_TYPES),
  api_key_header: headerName.nullable(),
  /** Sealed at rest; "" removes it. */
  api_key: z.string().max(MAX_SECRET_LENGTH),
  /** Header name → value, sealed at rest as one object; {} removes them. */
  custom_headers: z.record(headerName, z.string().max(MAX_SECRET_LENGTH)),
  oauth_client_id: z.string().trim().max(512).nullable(),
  oauth_client_secret: z.string().max(MAX_SECRET_LENGTH),
  oauth_authorize_url: z.string().trim().max(2048).nullable(),
  oauth_token_url: z.string().trim().max(2048).nullable(),
  oauth_scopes: z.string().trim().max(2048),
  tool_allow_list: toolList,
  tool_deny_list: toolList,
  availability: z.enum(MCP_AVAILABILITIES),
  enabled: z.boolean(),
};

export const createMcpServerRequestSchema = z
  .object({ slug: z.string().trim().max(MAX_MCP_SLUG_LENGTH), ...mcpServerFields })
  .partial({
    display_name: true,
    description: true,
    transport: true,
    url: true,
    command: true,
    args: true,
    auth_type: true,
    api_key_header: true,
    api_key: true,
    custom_headers: true,
    oauth_client_id: true,
    oauth_client_secret: true,
    oauth_authorize_url: true,
    oauth_token_url: true,
    oauth_scopes: true,
    tool_allow_list: true,
    tool_deny_list: true,
    availability: true,
    enabled: true,
  })
  .meta({ id: "CreateMCPServerConfigRequest" });
export type CreateMcpServerRequest = z.infer<typeof createMcpServerRequestSchema>;

export const updateMcpServerRequestSchema = z
  .object({ slug: z.string().trim().max(MAX_MCP_SLUG_LENGTH), ...mcpServerFields })
  .partial()
  .meta({ id: "UpdateMCPServerConfigRequest" });
export type UpdateMcpServerRequest = z.infer<typeof updateMcpServerRequestSchema>;
