/**
 * The chat API's shapes (behavior.md section 3; snake_case, every field always present unless
 * marked optional): chats, messages, the queue, and the request bodies of the chat routes. The
 * routes parse every response through these, so nothing internal (worker ids, provider metadata,
 * costs) can leak.
 */
import { z } from "zod";
import { providerNameSchema } from "./llm.js";
import { chatInputPartSchema, chatMessagePartSchema } from "./parts.js";

export const CHAT_STATUSES = ["waiting", "pending", "running", "paused", "completed", "error"] as const;
export type ChatStatus = (typeof CHAT_STATUSES)[number];

export const MESSAGE_ROLES = ["system", "user", "assistant", "tool"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

const timestamp = z.iso.datetime({ offset: true });

/** Ids (UUIDs, integers) are short; the bound keeps a junk one out of error details and queries. */
const MAX_ID_LENGTH = 64;
/** An id as sent (path segment or body field), checked for its form by the handler. */
export const idField = z.string().max(MAX_ID_LENGTH);
/** Bounds the list of MCP ids a request can make the server echo back in an error. */
export const MAX_MCP_SERVER_IDS = 100;

export const PULL_REQUEST_STATES = ["open", "closed", "merged"] as const;

/**
 * A chat's diff status (behavior.md section 8): `{chat_id}` alone when nothing is known; once git
 * askpass recorded a branch and origin, the URL to look at, the refresh times and the PR fields
 * (defaults until gitsync found a pull request; `pull_request_state` null until then).
 */
export const chatDiffStatusSchema = z
  .object({
    chat_id: z.uuid(),
    url: z.string().optional(),
    pull_request_state: z.enum(PULL_REQUEST_STATES).nullable().optional(),
    pull_request_title: z.string().optional(),
    pull_request_draft: z.boolean().optional(),
    pr_number: z.number().int().nullable().optional(),
    changes_requested: z.boolean().optional(),
    approved: z.boolean().nullable().optional(),
    reviewer_count: z.number().int().nullable().optional(),
    additions: z.number().int().optional(),
    deletions: z.number().int().optional(),
    changed_files: z.number().int().optional(),
    commits: z.number().int().nullable().optional(),
    author_login: z.string().nullable().optional(),
    author_avatar_url: z.string().nullable().optional(),
    base_branch: z.string().nullable().optional(),
    head_branch: z.string().nullable().optional(),
    refreshed_at: z.string().nullable().optional(),
    stale_at: z.string().optional(),
  })
  .meta({ id: "ChatDiffStatus" });
export type ChatDiffStatus = z.infer<typeof chatDiffStatusSchema>;

/** chat_mode values (behavior.md section 1); a normal chat has none. */
export const CHAT_MODES = ["computer_use"] as const;

export const chatSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    workspace_id: z.uuid().nullable(),
    parent_chat_id: z.uuid().nullable(),
    /** The root of the chat's tree; a root chat reports its own id. */
    root_chat_id: z.uuid(),
    last_model_config_id: z.uuid(),
    title: z.string(),
    status: z.enum(CHAT_STATUSES),
    last_error: z.string().nullable(),
    archived: z.boolean(),
    /** `computer_use` for a sub-agent that drives the workspace's desktop; null for a normal chat. */
    mode: z.enum(CHAT_MODES).nullable(),
    mcp_server_ids: z.array(z.uuid()),
    diff_status: chatDiffStatusSchema,
    /** What the chat and its sub-agents cost so far, in micro-dollars (get and list). */
    tree_cost_micros: z.number().int().optional(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Chat" });
export type ChatResponse = z.infer<typeof chatSchema>;

export const chatMessageUsageSchema = z
  .object({
    input_tokens: z.number().int().nullable(),
    output_tokens: z.number().int().nullable(),
    total_tokens: z.number().int().nullable(),
    reasoning_tokens: z.number().int().nullable(),
    cache_creation_tokens: z.number().int().nullable(),
    cache_read_tokens: z.number().int().nullable(),
    context_limit: z.number().int().nullable(),
  })
  .meta({ id: "ChatMessageUsage" });
export type ChatMessageUsage = z.infer<typeof chatMessageUsageSchema>;

export const chatMessageSchema = z
  .object({
    id: z.number().int(),
    chat_id: z.uuid(),
    created_by: z.uuid().nullable(),
    model_config_id: z.uuid().nullable(),
    created_at: timestamp,
    role: z.enum(MESSAGE_ROLES),
    content: z.array(chatMessagePartSchema),
    /** Present when the provider reported any usage for this message. */
    usage: chatMessageUsageSchema.optional(),
    /** What this step cost, in micro-dollars; present only when the model config is priced. */
    total_cost_micros: z.number().int().optional(),
  })
  .meta({ id: "ChatMessage" });
export type ChatMessageResponse = z.infer<typeof chatMessageSchema>;
/** The same type by its OpenAPI name. */
export type ChatMessage = ChatMessageResponse;

export const chatQueuedMessageSchema = z
  .object({
    id: z.number().int(),
    chat_id: z.uuid(),
    content: z.array(chatMessagePartSchema),
    created_at: timestamp,
  })
  .meta({ id: "ChatQueuedMessage" });
export type ChatQueuedMessageResponse = z.infer<typeof chatQueuedMessageSchema>;
/** The same type by its OpenAPI name. */
export type ChatQueuedMessage = ChatQueuedMessageResponse;

export const chatMessagesResponseSchema = z
  .object({
    /** Newest first. */
    messages: z.array(chatMessageSchema),
    /** Oldest first; only on the first page (no `before_id`), empty on later ones. */
    queued_messages: z.array(chatQueuedMessageSchema),
    /** Older messages exist beyond this page. */
    has_more: z.boolean(),
  })
  .meta({ id: "ChatMessagesResponse" });
export type ChatMessagesResponse = z.infer<typeof chatMessagesResponseSchema>;

export const createChatRequestSchema = z
  .object({
    content: z.array(chatInputPartSchema).optional(),
    workspace_id: idField.nullable().optional(),
    model_config_id: idField.nullable().optional(),
    mcp_server_ids: z.array(idField).max(MAX_MCP_SERVER_IDS).optional(),
  })
  .meta({ id: "CreateChatRequest" });
export type CreateChatRequest = z.input<typeof createChatRequestSchema>;

export const updateChatRequestSchema = z
  .object({ title: z.string().max(1024).optional(), archived: z.boolean().optional() })
  .meta({ id: "UpdateChatRequest" });
export type UpdateChatRequest = z.input<typeof updateChatRequestSchema>;

export const createChatMessageRequestSchema = z
  .object({
    content: z.array(chatInputPartSchema).optional(),
    model_config_id: idField.nullable().optional(),
    mcp_server_ids: z.array(idField).max(MAX_MCP_SERVER_IDS).optional(),
  })
  .meta({ id: "CreateChatMessageRequest" });
export type CreateChatMessageRequest = z.input<typeof createChatMessageRequestSchema>;

export const createChatMessageResponseSchema = z
  .object({
    message: chatMessageSchema.optional(),
    queued_message: chatQueuedMessageSchema.optional(),
    /** True when the chat was busy and the message waits in its queue. */
    queued: z.boolean(),
  })
  .meta({ id: "CreateChatMessageResponse" });
export type CreateChatMessageResponse = z.infer<typeof createChatMessageResponseSchema>;

export const editChatMessageRequestSchema = z.object({ content: z.array(chatInputPartSchema).optional() }).meta({ id: "EditChatMessageRequest" });
export type EditChatMessageRequest = z.input<typeof editChatMessageRequestSchema>;

export const uploadChatFileResponseSchema = z.object({ id: z.uuid() }).meta({ id: "UploadChatFileResponse" });
export type UploadChatFileResponse = z.infer<typeof uploadChatFileResponseSchema>;

export const chatSystemPromptSchema = z.object({ system_prompt: z.string() }).meta({ id: "ChatSystemPrompt" });
export type ChatSystemPrompt = z.infer<typeof chatSystemPromptSchema>;
export const userChatCustomPromptSchema = z.object({ custom_prompt: z.string() }).meta({ id: "UserChatCustomPrompt" });
export type UserChatCustomPrompt = z.infer<typeof userChatCustomPromptSchema>;
export const workspaceTtlSchema = z.object({ workspace_ttl_ms: z.number() }).meta({ id: "ChatWorkspaceTTL" });
export type WorkspaceTtl = z.infer<typeof workspaceTtlSchema>;

/** `/chats/config/desktop-enabled`: whether chats may use a virtual desktop (computer use). */
export const chatDesktopEnabledSchema = z.object({ enable_desktop: z.boolean() }).meta({ id: "ChatDesktopEnabled" });
export type ChatDesktopEnabled = z.infer<typeof chatDesktopEnabledSchema>;

/** `GET /chats/models`: what each provider offers the caller, and why one cannot be used. */
export const chatModelsResponseSchema = z
  .object({
    providers: z.array(
      z.object({
        provider: providerNameSchema,
        available: z.boolean(),
        unavailable_reason: z.enum(["missing_api_key", "fetch_failed"]).optional(),
        models: z.array(z.object({ id: z.string(), provider: providerNameSchema, model: z.string(), display_name: z.string() })),
      }),
    ),
  })
  .meta({ id: "ChatModelsResponse" });
export type ChatModelsResponse = z.infer<typeof chatModelsResponseSchema>;
