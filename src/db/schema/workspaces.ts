/**
 * Templates, workspaces, their builds, agents and shares (PRODUCT.md section 5), plus the per-user
 * git credentials the git askpass flow uses (the per-chat diff status lives with the chats).
 *
 * - A workspace's state is its latest build: `transition` says what was asked (start, stop,
 *   delete) and `status` how far it got. Build numbers are per workspace and never reused.
 * - An agent belongs to one build. A start build creates a fresh agent (new id, new token), so a
 *   chat never stores an agent id: it looks up the agent of the workspace's latest build (seed:
 *   "workspace agent lookup after restarts").
 * - Agent tokens are stored as SHA-256 of their secret half only, like API tokens.
 * - `replica_id` names the replica holding the agent's socket; calls from other replicas are
 *   forwarded there. It is cleared when the socket closes.
 * - Git tokens are sealed with the server's cipher (secrets/cipher.ts); the API never returns one.
 */
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { bytea, users } from "./users.js";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const provisionerKind = pgEnum("provisioner_kind", ["local", "command"]);
export const buildTransition = pgEnum("workspace_build_transition", ["start", "stop", "delete"]);
export const buildStatus = pgEnum("workspace_build_status", ["pending", "running", "succeeded", "failed", "canceled"]);
export const shareRole = pgEnum("workspace_share_role", ["read", "use"]);

export const templates = pgTable(
  "templates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    displayName: text("display_name").notNull().default(""),
    description: text("description").notNull().default(""),
    icon: text("icon").notNull().default(""),
    provisioner: provisionerKind("provisioner").notNull().default("local"),
    /** Runs in the new workspace's directory (local) with the parameters in its environment. */
    setupScript: text("setup_script").notNull().default(""),
    /** `command` provisioner: launches `chatd agent` somewhere with the agent token in its env. */
    startCommand: text("start_command").notNull().default(""),
    stopCommand: text("stop_command").notNull().default(""),
    /** TemplateParameter[] (workspaces/templates.ts has the schema). */
    parameters: jsonb("parameters").notNull().default(sql`'[]'::jsonb`),
    deprecated: boolean("deprecated").notNull().default(false),
    deleted: boolean("deleted").notNull().default(false),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("templates_name_idx").on(sql`lower(${t.name})`).where(sql`NOT ${t.deleted}`)],
);

export const workspaces = pgTable(
  "workspaces",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    templateId: uuid("template_id")
      .notNull()
      .references(() => templates.id),
    name: text("name").notNull(),
    /** Parameter values by name, as the template's parameters validated them. */
    parameters: jsonb("parameters").notNull().default(sql`'{}'::jsonb`),
    /** Autostop after this long unused; NULL = never. */
    ttlMs: bigint("ttl_ms", { mode: "number" }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    deleted: boolean("deleted").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("workspaces_owner_name_idx").on(t.ownerId, sql`lower(${t.name})`).where(sql`NOT ${t.deleted}`),
    index("workspaces_template_id_idx").on(t.templateId),
  ],
);

export const workspaceBuilds = pgTable(
  "workspace_builds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    buildNumber: integer("build_number").notNull(),
    transition: buildTransition("transition").notNull(),
    status: buildStatus("status").notNull().default("pending"),
    initiatorId: uuid("initiator_id").references(() => users.id, { onDelete: "set null" }),
    /** The replica executing the build; a build whose runner vanished is failed by recovery. */
    runnerId: uuid("runner_id"),
    /** Setup script / start / stop command output, appended as it arrives (capped). */
    log: text("log").notNull().default(""),
    error: text("error"),
    createdAt: createdAt(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("workspace_builds_number_idx").on(t.workspaceId, t.buildNumber)],
);

export const workspaceAgents = pgTable(
  "workspace_agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    buildId: uuid("build_id")
      .notNull()
      .references(() => workspaceBuilds.id, { onDelete: "cascade" }),
    /** The token's public half (auth/token.ts format) and the SHA-256 of its secret half. */
    tokenId: text("token_id").notNull(),
    hashedSecret: bytea("hashed_secret").notNull(),
    /** Replica holding the agent's socket; NULL while disconnected. */
    replicaId: uuid("replica_id"),
    firstConnectedAt: timestamp("first_connected_at", { withTimezone: true }),
    lastConnectedAt: timestamp("last_connected_at", { withTimezone: true }),
    disconnectedAt: timestamp("disconnected_at", { withTimezone: true }),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true }),
    version: text("version").notNull().default(""),
    operatingSystem: text("operating_system").notNull().default(""),
    directory: text("directory").notNull().default(""),
    /** Local provisioner: the agent's process (group leader) id, for stop. */
    pid: integer("pid"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("workspace_agents_token_id_idx").on(t.tokenId), index("workspace_agents_workspace_id_idx").on(t.workspaceId)],
);

export const workspaceShares = pgTable(
  "workspace_shares",
  {
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: shareRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index("workspace_shares_user_id_idx").on(t.userId)],
);

/** Per-user tokens for git hosts (only `github` today), sealed at rest. */
export const externalAuthLinks = pgTable(
  "external_auth_links",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    sealedToken: text("sealed_token").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.provider] })],
);
