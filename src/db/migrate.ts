/**
 * Applies the drizzle-kit migrations. On PostgreSQL the run holds a session advisory lock on one
 * dedicated connection, so replicas that start at the same moment apply each migration once and
 * the others wait, then find nothing left to do.
 */
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePgliteDb } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePgDb } from "drizzle-orm/node-postgres/migrator";
import type pg from "pg";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/** Arbitrary but fixed: every replica must lock the same key. ("chatd" in ASCII.) */
export const MIGRATION_ADVISORY_LOCK_KEY = 0x6368617464;

export async function migratePglite(client: PGlite): Promise<void> {
  await migratePgliteDb(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
}

export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
    try {
      await migratePgDb(drizzlePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
