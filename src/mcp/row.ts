/** The stored MCP server config row, in its own module so config.ts and oauth.ts share it without a cycle. */
import type { mcpServerConfigs } from "../db/schema/index.js";

export type McpServerRow = typeof mcpServerConfigs.$inferSelect;
