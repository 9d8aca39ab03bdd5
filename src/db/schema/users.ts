/**
 * Users, their login sessions and API tokens, and groups. Tokens are stored as SHA-256 of their
 * secret half only: a database dump never yields a usable credential.
 */
import { sql } from "drizzle-orm";
import { bigint, check, customType, index, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** bytea read as a Buffer on both backends (the type parsers in db/client.ts make it so). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const userStatus = pgEnum("user_status", ["active", "suspended"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    username: text("username").notNull(),
    email: text("email").notNull(),
    name: text("name").notNull().default(""),
    hashedPassword: text("hashed_password").notNull(),
    /** Normalized: sorted, distinct, always contains "member". */
    roles: text("roles").array().notNull().default(sql`'{member}'::text[]`),
    status: userStatus("status").notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    /** The user's own chat spend limit per period (usage limits); NULL: the group's or default. */
    chatSpendLimitMicros: bigint("chat_spend_limit_micros", { mode: "number" }),
  },
  (t) => [
    uniqueIndex("users_username_lower_idx").on(sql`lower(${t.username})`),
    uniqueIndex("users_email_lower_idx").on(sql`lower(${t.email})`),
    check("users_chat_spend_limit_positive", sql`${t.chatSpendLimitMicros} IS NULL OR ${t.chatSpendLimitMicros} > 0`),
  ],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    hashedSecret: bytea("hashed_secret").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    ipAddress: text("ip_address").notNull().default(""),
    userAgent: text("user_agent").notNull().default(""),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId), index("sessions_expires_at_idx").on(t.expiresAt)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull().default(""),
    hashedSecret: bytea("hashed_secret").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
  },
  (t) => [index("api_keys_user_id_idx").on(t.userId)],
);

export const groups = pgTable(
  "groups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    displayName: text("display_name").notNull().default(""),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** The group's chat spend limit per period for its members (usage limits); NULL: none. */
    chatSpendLimitMicros: bigint("chat_spend_limit_micros", { mode: "number" }),
  },
  (t) => [
    uniqueIndex("groups_name_lower_idx").on(sql`lower(${t.name})`),
    check("groups_chat_spend_limit_positive", sql`${t.chatSpendLimitMicros} IS NULL OR ${t.chatSpendLimitMicros} > 0`),
  ],
);

export const groupMembers = pgTable(
  "group_members",
  {
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user_id_idx").on(t.userId)],
);
