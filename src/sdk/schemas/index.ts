/**
 * chatd's wire types: every request and response body and stream event, as zod schemas that the
 * server validates and answers with and that clients (the SDK, the CLI, the web UI) parse with.
 *
 * Browser-safe: these modules import only `zod` and each other (test/unit/sdk-browser-safe.test.ts
 * enforces it), so a browser bundle can import them.
 */
export * from "./chats.js";
export * from "./decimal.js";
export * from "./errors.js";
export * from "./llm.js";
export * from "./parts.js";
export * from "./streams.js";
export * from "./users.js";
export * from "./workspaces.js";
export * from "./cost.js";
