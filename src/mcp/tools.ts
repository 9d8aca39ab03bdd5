/**
 * A chat run's MCP tools: the chat's servers (its chosen ones plus every force_on one) asked for
 * their tools through the pool, each offered as `<slug>__<tool>` with the server's own JSON
 * schema, filtered by the allow/deny lists (behavior.md section 6). A server that cannot be
 * reached is skipped and named in a notice; the run goes on without it.
 *
 * Results: text → text, images → an image result (`{data, mime_type, text}`, which
 * chatd/prompt/convert.ts shows to the model), resources → text; `isError` → an error result.
 */
import { jsonSchema, tool as sdkTool, type JSONSchema7 } from "ai";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Queryable } from "../db/client.js";
import type { ChatRow } from "../chats/store.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { defineTool, DEFAULT_OUTPUT_CAP_BYTES, toolError, type ChatTool } from "../chatd/tools/registry.js";
import { specsForChat, toolPermitted, type McpServerSpec } from "./config.js";
import type { McpPool } from "./pool.js";

/** Providers accept tool names of at most 64 characters from [A-Za-z0-9_-]. */
const MAX_TOOL_NAME_LENGTH = 64;
const TOOL_NAME_CHARACTER = /[^A-Za-z0-9_-]/g;
/** Room for one image (providers take about 5 MB): the JSON cap must not cut one in half. */
export const MCP_OUTPUT_CAP_BYTES = 6 * 1024 * 1024;
/** Text of a result, capped as every other tool's output (the image is apart from it). */
const MAX_RESULT_TEXT_BYTES = DEFAULT_OUTPUT_CAP_BYTES;

/** The content blocks chatd understands; anything else is named, not dropped silently. */
const contentBlock = z.union([
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("image"), data: z.string(), mimeType: z.string() }),
  z.object({
    type: z.literal("resource"),
    resource: z.object({ uri: z.string(), mimeType: z.string().optional(), text: z.string().optional(), blob: z.string().optional() }),
  }),
  z.object({ type: z.literal("resource_link"), uri: z.string(), name: z.string().optional() }),
  z.object({ type: z.string() }),
]);

const callResult = z.object({
  content: z.array(contentBlock).optional(),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
  /** Protocol versions before 2024-11-05 answer `{toolResult}`. */
  toolResult: z.unknown().optional(),
});

/** The argument object; the MCP server checks it against its schema too. */
const argumentsSchema = z.record(z.string(), z.unknown());

/** The model-facing name: `<slug>__<tool>`, with characters providers refuse replaced. */
export function mcpToolName(slug: string, tool: string): string {
  return `${slug}__${tool.replace(TOOL_NAME_CHARACTER, "_")}`.slice(0, MAX_TOOL_NAME_LENGTH);
}

function truncateText(text: string): string {
  if (Buffer.byteLength(text, "utf8") <= MAX_RESULT_TEXT_BYTES) return text;
  return `${Buffer.from(text, "utf8").subarray(0, MAX_RESULT_TEXT_BYTES).toString("utf8").replace(/\uFFFD$/, "")}\n[truncated]`;
}

/** An MCP call result as the loop's tool output. */
export function toToolOutput(raw: unknown): { result: unknown; isError?: boolean } {
  const parsed = callResult.safeParse(raw);
  if (!parsed.success) return toolError("the MCP server answered with a malformed tool result");
  const { content = [], structuredContent, isError, toolResult } = parsed.data;
  const texts: string[] = [];
  const images: { data: string; mimeType: string }[] = [];
  for (const block of content) {
    if ("text" in block && block.type === "text") texts.push(block.text);
    else if ("data" in block && block.type === "image") images.push({ data: block.data, mimeType: block.mimeType });
    else if ("resource" in block) {
      const { uri, text, blob, mimeType } = block.resource;
      texts.push(text !== undefined ? `[resource ${uri}]\n${text}` : `[resource ${uri}: ${mimeType ?? "binary"}, ${blob?.length ?? 0} base64 characters not shown]`);
    } else if ("uri" in block) texts.push(`[resource link ${block.uri}${block.name ? ` (${block.name})` : ""}]`);
    else texts.push(`[${block.type} content not shown]`);
  }
  if (images.length > 1) texts.push(`[${images.length - 1} more image(s) not shown]`);
  const text = truncateText(texts.join("\n"));
  if (isError) return toolError(text || "the MCP tool reported an error");
  const image = images[0];
  if (image) return { result: { data: image.data, mime_type: image.mimeType, text } };
  if (text === "" && structuredContent) return { result: structuredContent };
  if (content.length === 0 && toolResult !== undefined) return { result: toolResult };
  try {
    // Same convention as the built-in tools: JSON text stays JSON, other text is `{output}`.
    const json: unknown = JSON.parse(text);
    return { result: json };
  } catch {
    return { result: { output: text } };
  }
}

/** The JSON schema of a tool's input, in the shape the AI SDK declares to providers. */
function inputJsonSchema(tool: Tool): JSONSchema7 {
  const schema: JSONSchema7 = { type: "object", properties: {} };
  const { properties, required, ...rest } = tool.inputSchema;
  Object.assign(schema, rest, { type: "object" });
  if (properties) schema.properties = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, value]));
  if (required) schema.required = required;
  return schema;
}

/** One MCP tool as a chat tool named `name`; its calls go through the pool. */
export function chatToolFor(pool: McpPool, spec: McpServerSpec, tool: Tool, name: string): ChatTool {
  const description = [spec.displayName || spec.slug, tool.description ?? tool.title ?? ""].filter(Boolean).join(": ");
  return defineTool({
    name,
    description,
    inputSchema: argumentsSchema,
    outputCapBytes: MCP_OUTPUT_CAP_BYTES,
    providerDefinition: sdkTool({ description, inputSchema: jsonSchema(inputJsonSchema(tool)) }),
    execute: async (input, context) => {
      const outcome = await pool.callTool(spec, tool.name, input, context.signal);
      if (!outcome.ok) return toolError(`MCP server ${spec.slug}: ${outcome.reason}`);
      return toToolOutput(outcome.result);
    },
  });
}

export interface McpRunTools {
  tools: ChatTool[];
  /** One line per server that was skipped, for the chat's visible notice. */
  notices: string[];
}

/** The tools a run of `chat` is offered from MCP servers, and what was skipped. */
export async function mcpToolsForChat(q: Queryable, cipher: SecretCipher, pool: McpPool, chat: Pick<ChatRow, "ownerId" | "mcpServerIds">): Promise<McpRunTools> {
  const { specs, problems } = await specsForChat(q, cipher, chat.ownerId, chat.mcpServerIds);
  const notices = problems.map((problem) => `MCP server "${problem.displayName || problem.slug}" was skipped: ${problem.reason}.`);
  const listings = await Promise.all(specs.map(async (spec) => ({ spec, listing: await pool.listTools(spec) })));
  const tools: ChatTool[] = [];
  const names = new Set<string>();
  for (const { spec, listing } of listings) {
    if (!listing.ok) {
      notices.push(`MCP server "${spec.displayName || spec.slug}" is unavailable and its tools are not offered: ${listing.reason}.`);
      continue;
    }
    for (const tool of listing.tools) {
      if (!toolPermitted(spec, tool.name)) continue;
      const name = mcpToolName(spec.slug, tool.name);
      // Two tools that differ only in characters providers refuse: the first one wins.
      if (names.has(name)) continue;
      names.add(name);
      tools.push(chatToolFor(pool, spec, tool, name));
    }
  }
  return { tools, notices };
}
