/**
 * The one message part model (behavior.md section 1, `ChatMessagePart`), shared by the database,
 * the API and the stream, and what a user sends into a chat (`ChatInputPart`).
 *
 * The input schema is deliberately loose (any `type` string, every field optional) so that the
 * server's checks (chats/input.ts) can answer with behavior.md's exact messages (`content[i]...`)
 * instead of zod's.
 */
import { z } from "zod";

export const PART_TYPES = ["text", "reasoning", "tool-call", "tool-result", "source", "file", "file-reference"] as const;
export type PartType = (typeof PART_TYPES)[number];

export const chatMessagePartSchema = z
  .object({
    type: z.enum(PART_TYPES),
    text: z.string().optional(),
    signature: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_name: z.string().optional(),
    /** Raw JSON of the tool input. */
    args: z.unknown().optional(),
    args_delta: z.string().optional(),
    /** Raw JSON of the tool result. */
    result: z.unknown().optional(),
    result_delta: z.string().optional(),
    is_error: z.boolean().optional(),
    source_id: z.string().optional(),
    url: z.string().optional(),
    title: z.string().optional(),
    media_type: z.string().optional(),
    /** Base64 bytes of an inline file (dropped from the API when `file_id` is set). */
    data: z.string().optional(),
    file_id: z.string().optional(),
    file_name: z.string().optional(),
    start_line: z.number().int().optional(),
    end_line: z.number().int().optional(),
    content: z.string().optional(),
    /** Internal (provider replay data); stripped from API and stream output. */
    provider_metadata: z.record(z.string(), z.unknown()).optional(),
    provider_executed: z.boolean().optional(),
  })
  .meta({ id: "ChatMessagePart" });
export type ChatMessagePart = z.infer<typeof chatMessagePartSchema>;

/** Longest `type` string the server bothers echoing back in an error. */
const MAX_INPUT_TYPE_LENGTH = 64;

export const chatInputPartSchema = z
  .object({
    /** `text`, `file` or `file-reference`; trimmed and case-insensitive. */
    type: z.string().max(MAX_INPUT_TYPE_LENGTH),
    text: z.string().optional(),
    file_id: z.string().optional(),
    file_name: z.string().optional(),
    start_line: z.number().int().min(0).optional(),
    end_line: z.number().int().min(0).optional(),
    content: z.string().optional(),
  })
  .meta({ id: "ChatInputPart" });
export type ChatInputPart = z.infer<typeof chatInputPartSchema>;
