/**
 * Model configs: which models chats may use, with their context limit, compaction threshold and
 * options. Invariant: while any live (non-deleted) config exists, exactly one is the default. Every
 * write that can change the default runs in one transaction holding DEFAULT_LOCK_KEY, so two
 * admins (or replicas) editing at once cannot leave zero or two defaults; the partial unique
 * index is the last line of defence.
 */
import { and, asc, desc, eq, ne, sql } from "drizzle-orm";
import type { Database, Queryable, Transaction } from "../db/client.js";
import { queryRows } from "../db/raw.js";
import { chatModelConfigs } from "../db/schema/index.js";
import { transaction } from "../db/transaction.js";
import { readStoredOptions } from "./model-options.js";
import { providerNameSchema, type ModelCallConfig, type ModelConfigResponse } from "../sdk/schemas/llm.js";

/** Serializes default-changing writes across replicas ("mdldflt"). */
const DEFAULT_LOCK_KEY = 0x6d646c64666c74;
/** behavior.md: compaction at 70 % of the context limit unless configured. */
export const DEFAULT_COMPRESSION_THRESHOLD = 70;

export type ModelConfigRow = typeof chatModelConfigs.$inferSelect;

export function toModelConfigResponse(row: ModelConfigRow): ModelConfigResponse {
  return {
    id: row.id,
    provider: providerNameSchema.parse(row.provider),
    model: row.model,
    display_name: row.displayName,
    enabled: row.enabled,
    is_default: row.isDefault,
    context_limit: row.contextLimit,
    compression_threshold: row.compressionThreshold,
    model_config: readStoredOptions(row.options),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const live = () => eq(chatModelConfigs.deleted, false);

async function lockDefaults(tx: Transaction): Promise<void> {
  await queryRows(tx, sql`SELECT pg_advisory_xact_lock(${DEFAULT_LOCK_KEY})`);
}

/** Makes `id` the only default. */
async function makeDefault(tx: Transaction, id: string): Promise<void> {
  await tx.update(chatModelConfigs).set({ isDefault: false }).where(and(eq(chatModelConfigs.isDefault, true), ne(chatModelConfigs.id, id)));
  await tx.update(chatModelConfigs).set({ isDefault: true }).where(eq(chatModelConfigs.id, id));
}

/** If no live config is the default, promotes the first by (provider, model, updated_at DESC, id DESC). */
async function ensureDefault(tx: Transaction): Promise<void> {
  const [current] = await tx
    .select({ id: chatModelConfigs.id })
    .from(chatModelConfigs)
    .where(and(live(), eq(chatModelConfigs.isDefault, true)))
    .limit(1);
  if (current) return;
  const [next] = await tx
    .select({ id: chatModelConfigs.id })
    .from(chatModelConfigs)
    .where(live())
    .orderBy(asc(chatModelConfigs.provider), asc(chatModelConfigs.model), desc(chatModelConfigs.updatedAt), desc(chatModelConfigs.id))
    .limit(1);
  if (next) await makeDefault(tx, next.id);
}

export interface NewModelConfig {
  provider: string;
  model: string;
  displayName: string;
  enabled: boolean;
  isDefault: boolean;
  contextLimit: number;
  compressionThreshold: number;
  options: ModelCallConfig;
  createdBy: string;
}

/**
 * Inserts a config; it becomes the default when asked or when there is no default yet. `prepare`
 * runs first in the same transaction (e.g. to create the provider row of an env preset).
 */
export async function createModelConfig(
  db: Database,
  input: NewModelConfig,
  prepare?: (tx: Transaction) => Promise<void>,
): Promise<ModelConfigRow> {
  return transaction(db, async (tx) => {
    await lockDefaults(tx);
    await prepare?.(tx);
    const [row] = await tx
      .insert(chatModelConfigs)
      .values({
        provider: input.provider,
        model: input.model,
        displayName: input.displayName,
        enabled: input.enabled,
        contextLimit: input.contextLimit,
        compressionThreshold: input.compressionThreshold,
        options: input.options,
        createdBy: input.createdBy,
        updatedBy: input.createdBy,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    if (input.isDefault) await makeDefault(tx, row.id);
    else await ensureDefault(tx);
    return findModelConfigOrThrow(tx, row.id);
  });
}

export type ModelConfigPatch = Partial<Omit<NewModelConfig, "createdBy">> & { updatedBy: string };

/** Applies a partial update; un-defaulting the default promotes another config. */
export async function updateModelConfig(db: Database, id: string, patch: ModelConfigPatch): Promise<ModelConfigRow | undefined> {
  return transaction(db, async (tx) => {
    await lockDefaults(tx);
    const existing = await findLiveModelConfig(tx, id);
    if (!existing) return undefined;
    await tx
      .update(chatModelConfigs)
      .set({
        ...(patch.provider === undefined ? {} : { provider: patch.provider }),
        ...(patch.model === undefined ? {} : { model: patch.model }),
        ...(patch.displayName === undefined ? {} : { displayName: patch.displayName }),
        ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
        ...(patch.contextLimit === undefined ? {} : { contextLimit: patch.contextLimit }),
        ...(patch.compressionThreshold === undefined ? {} : { compressionThreshold: patch.compressionThreshold }),
        ...(patch.options === undefined ? {} : { options: patch.options }),
        ...(patch.isDefault === false ? { isDefault: false } : {}),
        updatedBy: patch.updatedBy,
        updatedAt: new Date(),
      })
      .where(eq(chatModelConfigs.id, id));
    if (patch.isDefault === true) {
      await makeDefault(tx, id);
    } else if (patch.isDefault === false && existing.isDefault) {
      // Promote another config; if this is the only one, it stays the default.
      await ensureDefaultExcluding(tx, id);
    }
    return findModelConfigOrThrow(tx, id);
  });
}

async function ensureDefaultExcluding(tx: Transaction, excluded: string): Promise<void> {
  const [next] = await tx
    .select({ id: chatModelConfigs.id })
    .from(chatModelConfigs)
    .where(and(live(), ne(chatModelConfigs.id, excluded)))
    .orderBy(asc(chatModelConfigs.provider), asc(chatModelConfigs.model), desc(chatModelConfigs.updatedAt), desc(chatModelConfigs.id))
    .limit(1);
  await makeDefault(tx, next?.id ?? excluded);
}

/** Soft-deletes a config (history keeps pointing at it) and re-ensures a default. */
export async function deleteModelConfig(db: Database, id: string): Promise<boolean> {
  return transaction(db, async (tx) => {
    await lockDefaults(tx);
    const removed = await tx
      .update(chatModelConfigs)
      .set({ deleted: true, deletedAt: new Date(), isDefault: false, updatedAt: new Date() })
      .where(and(eq(chatModelConfigs.id, id), live()))
      .returning({ id: chatModelConfigs.id });
    if (removed.length === 0) return false;
    await ensureDefault(tx);
    return true;
  });
}

export async function findLiveModelConfig(q: Queryable, id: string): Promise<ModelConfigRow | undefined> {
  const [row] = await q.select().from(chatModelConfigs).where(and(eq(chatModelConfigs.id, id), live())).limit(1);
  return row;
}

async function findModelConfigOrThrow(q: Queryable, id: string): Promise<ModelConfigRow> {
  const row = await findLiveModelConfig(q, id);
  if (!row) throw new Error(`model config ${id} vanished inside its own transaction`);
  return row;
}

/** Live configs; `enabledOnly` for non-admins. Ordered by provider, model. */
export async function listModelConfigs(q: Queryable, enabledOnly: boolean): Promise<ModelConfigRow[]> {
  return q
    .select()
    .from(chatModelConfigs)
    .where(enabledOnly ? and(live(), eq(chatModelConfigs.enabled, true)) : live())
    .orderBy(asc(chatModelConfigs.provider), asc(chatModelConfigs.model), asc(chatModelConfigs.createdAt), asc(chatModelConfigs.id));
}
