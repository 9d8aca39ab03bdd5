/**
 * Language-model providers and model configs (behavior.md section 1, "Other tables"). A provider's
 * API key is stored sealed (secrets/cipher.ts); an empty string means "no key stored". A model
 * config's `options` holds its call settings, pricing and provider options (llm/model-options.ts).
 */
import { sql } from "drizzle-orm";
import { bigint, boolean, check, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid, index } from "drizzle-orm/pg-core";
import { SUPPORTED_PROVIDERS } from "../../sdk/schemas/llm.js";
import { users } from "./users.js";

export const chatProviders = pgTable(
  "chat_providers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    provider: text("provider").notNull().unique(),
    displayName: text("display_name").notNull().default(""),
    /** Sealed API key, or "" when none is stored. */
    apiKeySealed: text("api_key_sealed").notNull().default(""),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    enabled: boolean("enabled").notNull().default(true),
    baseUrl: text("base_url").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // The CHECK keeps rows within the providers the model factory supports.
  (t) => [
    check(
      "chat_providers_provider_check",
      sql`${t.provider} IN (${sql.raw(SUPPORTED_PROVIDERS.map((p) => `'${p}'`).join(", "))})`,
    ),
  ],
);

export const chatModelConfigs = pgTable(
  "chat_model_configs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    provider: text("provider")
      .notNull()
      .references(() => chatProviders.provider, { onDelete: "cascade" }),
    model: text("model").notNull(),
    displayName: text("display_name").notNull().default(""),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    updatedBy: uuid("updated_by").references(() => users.id, { onDelete: "set null" }),
    enabled: boolean("enabled").notNull().default(true),
    isDefault: boolean("is_default").notNull().default(false),
    deleted: boolean("deleted").notNull().default(false),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    contextLimit: bigint("context_limit", { mode: "number" }).notNull(),
    compressionThreshold: integer("compression_threshold").notNull().default(70),
    options: jsonb("options").notNull().default({}),
  },
  (t) => [
    check("chat_model_configs_context_limit_check", sql`${t.contextLimit} > 0`),
    check("chat_model_configs_compression_threshold_check", sql`${t.compressionThreshold} BETWEEN 0 AND 100`),
    // At most one live default: the database, not the handlers, guarantees it.
    uniqueIndex("chat_model_configs_single_default_idx")
      .on(sql`(1)`)
      .where(sql`${t.isDefault} AND NOT ${t.deleted}`),
    index("chat_model_configs_provider_idx").on(t.provider),
  ],
);
