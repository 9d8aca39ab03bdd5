/**
 * Chats, their messages, queued follow-ups and uploaded files (behavior.md section 1).
 *
 * - A running chat is owned through `worker_id` + `heartbeat_at` (a lease); every status change
 *   happens in chats/state.ts, in one transaction holding the row lock.
 * - `chat_messages.content` is a versioned JSON array of parts (chats/parts.ts), NUL-encoded
 *   because jsonb rejects U+0000. Numeric usage columns store 0 as NULL ("not reported").
 * - `updated_at` moves on status, title, workspace, archive changes; not on message inserts, so
 *   the list order reflects activity the user cares about.
 * - `workspace_id` is set null when its workspace row goes; a soft-deleted workspace keeps it.
 */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgEnum, pgTable, smallint, text, timestamp, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { chatModelConfigs } from "./llm.js";
import { bytea, users } from "./users.js";
import { workspaces } from "./workspaces.js";

export const chatStatus = pgEnum("chat_status", ["waiting", "pending", "running", "paused", "completed", "error"]);
export const chatMessageRole = pgEnum("chat_message_role", ["system", "user", "assistant", "tool"]);
export const chatMessageVisibility = pgEnum("chat_message_visibility", ["user", "model", "both"]);
/** A chat's mode; NULL is a normal chat. `computer_use` chats drive the workspace's desktop. */
export const chatMode = pgEnum("chat_mode", ["computer_use"]);

export const chats = pgTable(
  "chats",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    workspaceId: uuid("workspace_id").references((): AnyPgColumn => workspaces.id, { onDelete: "set null" }),
    title: text("title").notNull().default("New Chat"),
    status: chatStatus("status").notNull().default("waiting"),
    workerId: uuid("worker_id"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    parentChatId: uuid("parent_chat_id").references((): AnyPgColumn => chats.id, { onDelete: "set null" }),
    rootChatId: uuid("root_chat_id").references((): AnyPgColumn => chats.id, { onDelete: "set null" }),
    lastModelConfigId: uuid("last_model_config_id")
      .notNull()
      .references(() => chatModelConfigs.id),
    archived: boolean("archived").notNull().default(false),
    lastError: text("last_error"),
    mode: chatMode("mode"),
    mcpServerIds: uuid("mcp_server_ids").array().notNull().default(sql`'{}'::uuid[]`),
  },
  (t) => [
    index("chats_owner_id_idx").on(t.ownerId),
    index("chats_workspace_id_idx").on(t.workspaceId),
    // The worker's acquire scans pending chats oldest first; the partial index keeps it small.
    index("chats_pending_idx").on(t.updatedAt).where(sql`${t.status} = 'pending'`),
    // Stale recovery scans running chats by heartbeat.
    index("chats_running_heartbeat_idx").on(t.heartbeatAt).where(sql`${t.status} = 'running'`),
    index("chats_parent_chat_id_idx").on(t.parentChatId),
    index("chats_root_chat_id_idx").on(t.rootChatId),
    index("chats_last_model_config_id_idx").on(t.lastModelConfigId),
    // The chat list: caller's chats by (updated_at, id) descending, cursor-paginated.
    index("chats_owner_updated_idx").on(t.ownerId, t.updatedAt.desc(), t.id.desc()),
  ],
);

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    modelConfigId: uuid("model_config_id").references(() => chatModelConfigs.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    role: chatMessageRole("role").notNull(),
    content: jsonb("content"),
    visibility: chatMessageVisibility("visibility").notNull().default("both"),
    inputTokens: bigint("input_tokens", { mode: "number" }),
    outputTokens: bigint("output_tokens", { mode: "number" }),
    totalTokens: bigint("total_tokens", { mode: "number" }),
    reasoningTokens: bigint("reasoning_tokens", { mode: "number" }),
    cacheCreationTokens: bigint("cache_creation_tokens", { mode: "number" }),
    cacheReadTokens: bigint("cache_read_tokens", { mode: "number" }),
    contextLimit: bigint("context_limit", { mode: "number" }),
    compressed: boolean("compressed").notNull().default(false),
    /** The user who wrote it (no foreign key: history outlives accounts). */
    createdBy: uuid("created_by"),
    contentVersion: smallint("content_version").notNull(),
    totalCostMicros: bigint("total_cost_micros", { mode: "number" }),
    runtimeMs: bigint("runtime_ms", { mode: "number" }),
    deleted: boolean("deleted").notNull().default(false),
  },
  (t) => [
    // Messages of a chat by id: history pages (before_id) and catch-up (after_id).
    index("chat_messages_chat_id_id_idx").on(t.chatId, t.id),
    index("chat_messages_chat_id_created_at_idx").on(t.chatId, t.createdAt),
    // The latest compaction summary of a chat.
    index("chat_messages_compressed_summary_idx")
      .on(t.chatId, t.createdAt.desc(), t.id.desc())
      .where(sql`${t.compressed} AND ${t.role} = 'system' AND ${t.visibility} IN ('model', 'both')`),
    index("chat_messages_created_at_idx").on(t.createdAt),
    // Cost summaries read priced messages by time.
    index("chat_messages_cost_idx").on(t.chatId, t.createdAt).where(sql`${t.totalCostMicros} IS NOT NULL`),
    // Cost reports read a user's assistant steps in a window: with the summed columns in the key
    // (drizzle has no INCLUDE), they are index-only scans per chat instead of a scan of every
    // message (bench:cost).
    index("chat_messages_assistant_usage_idx")
      .on(t.chatId, t.createdAt, t.modelConfigId, t.totalCostMicros, t.inputTokens, t.outputTokens, t.cacheReadTokens, t.cacheCreationTokens)
      .where(sql`${t.role} = 'assistant'`),
  ],
);

export const chatQueuedMessages = pgTable(
  "chat_queued_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    content: jsonb("content").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("chat_queued_messages_chat_id_id_idx").on(t.chatId, t.id)],
);

export const chatFiles = pgTable(
  "chat_files",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    name: text("name").notNull().default(""),
    mimetype: text("mimetype").notNull(),
    data: bytea("data").notNull(),
  },
  (t) => [index("chat_files_owner_id_idx").on(t.ownerId)],
);

/**
 * What chatd knows of a chat's branch: recorded by the git askpass flow, refreshed from the git
 * host by gitsync. `stale_at <= now()` means "refresh me".
 */
export const chatDiffStatuses = pgTable(
  "chat_diff_statuses",
  {
    chatId: uuid("chat_id")
      .primaryKey()
      .references(() => chats.id, { onDelete: "cascade" }),
    url: text("url"),
    gitBranch: text("git_branch").notNull().default(""),
    gitRemoteOrigin: text("git_remote_origin").notNull().default(""),
    staleAt: timestamp("stale_at", { withTimezone: true }).notNull().defaultNow(),
    refreshedAt: timestamp("refreshed_at", { withTimezone: true }),
    // The pull request of the branch, as gitsync last read it from the git provider (behavior.md
    // section 1). NULL/defaults until a PR is found.
    pullRequestState: text("pull_request_state"),
    pullRequestTitle: text("pull_request_title").notNull().default(""),
    pullRequestDraft: boolean("pull_request_draft").notNull().default(false),
    prNumber: integer("pr_number"),
    changesRequested: boolean("changes_requested").notNull().default(false),
    approved: boolean("approved"),
    reviewerCount: integer("reviewer_count"),
    additions: integer("additions").notNull().default(0),
    deletions: integer("deletions").notNull().default(0),
    changedFiles: integer("changed_files").notNull().default(0),
    commits: integer("commits"),
    authorLogin: text("author_login"),
    authorAvatarUrl: text("author_avatar_url"),
    baseBranch: text("base_branch"),
    headBranch: text("head_branch"),
    /** When the PR was opened, merged and closed on the provider (for PR insights). */
    prCreatedAt: timestamp("pr_created_at", { withTimezone: true }),
    prMergedAt: timestamp("pr_merged_at", { withTimezone: true }),
    prClosedAt: timestamp("pr_closed_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("chat_diff_statuses_stale_at_idx").on(t.staleAt)],
);
