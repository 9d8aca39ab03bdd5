/**
 * Usage limits and web push: the deployment's chat spend limit (one row) and the browsers a user
 * asked to be notified on. Per-user and per-group overrides live on `users` and `groups`.
 */
import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./users.js";

/**
 * The default chat spend limit: a singleton (the primary key can only be `true`). A missing row
 * reads as "limits disabled", so a fresh database needs no seed.
 */
export const chatUsageLimitConfig = pgTable(
  "chat_usage_limit_config",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    enabled: boolean("enabled").notNull().default(false),
    defaultLimitMicros: bigint("default_limit_micros", { mode: "number" }).notNull().default(0),
    period: text("period").notNull().default("month"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("chat_usage_limit_config_singleton", sql`${t.singleton}`),
    check("chat_usage_limit_config_limit_non_negative", sql`${t.defaultLimitMicros} >= 0`),
    check("chat_usage_limit_config_period", sql`${t.period} IN ('day', 'week', 'month')`),
  ],
);

/**
 * One browser's push subscription (the PushSubscription a service worker got). An endpoint is one
 * browser profile, so it is unique: subscribing it again for another user moves it to that user.
 */
export const webpushSubscriptions = pgTable(
  "webpush_subscriptions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull(),
    /** The subscription's `keys.auth` and `keys.p256dh` (base64url), needed to encrypt payloads. */
    authKey: text("auth_key").notNull(),
    p256dhKey: text("p256dh_key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("webpush_subscriptions_endpoint_idx").on(t.endpoint), index("webpush_subscriptions_user_id_idx").on(t.userId)],
);
