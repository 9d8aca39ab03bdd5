/** The single Drizzle schema; drizzle-kit generates the migrations in db/migrations from it. */
export * from "./users.js";
export * from "./settings.js";
export * from "./llm.js";
export * from "./chats.js";
export * from "./workspaces.js";
export * from "./usage.js";
export * from "./mcp.js";
