/**
 * Key/value settings (site-wide and per user), server-held secrets, and the replica registry.
 * `server_secrets` holds values every replica must share (the generated encryption key on
 * PostgreSQL, later the relay secret); it is never exposed through the API.
 */
import { index, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users.js";

export const siteConfigs = pgTable("site_configs", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const userConfigs = pgTable(
  "user_configs",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

export const serverSecrets = pgTable("server_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const replicas = pgTable(
  "replicas",
  {
    id: uuid("id").primaryKey(),
    hostname: text("hostname").notNull(),
    relayAddress: text("relay_address").notNull().default(""),
    version: text("version").notNull().default(""),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("replicas_heartbeat_at_idx").on(t.heartbeatAt)],
);
