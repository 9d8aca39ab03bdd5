/**
 * Opens the database: PGlite in the data directory (behind the lock file) or a PostgreSQL pool from
 * `CHATD_DATABASE_URL`. Both come back as the same `Database` type, with type parsers that make
 * every column read the same way, and with migrations applied.
 */
import fs from "node:fs";
import path from "node:path";
import { PGlite, types as pgliteTypes } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import pg from "pg";
import * as schema from "./schema/index.js";
import { acquireDataDirLock, type DataDirLock } from "./lock.js";
import { migratePglite, migratePostgres } from "./migrate.js";
import { checkPgdataPath, errorText, explainPgliteOpenError, explainPostgresOpenError } from "./open-errors.js";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a query can run on: the database or an open transaction. */
export type Queryable = Database | Transaction;

/**
 * pg pool size. Chat runs are mostly waiting on the network, and each query is short; 10 is pg's
 * default and leaves room for several replicas under PostgreSQL's default max_connections of 100.
 */
const PG_POOL_MAX = 10;
/** How long a request waits for a pooled connection before failing instead of hanging. */
const PG_CONNECTION_TIMEOUT_MS = 10_000;

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} does not fit in a JavaScript number`);
  return value;
}

function parseByteaHex(text: string): Buffer {
  // PostgreSQL's default bytea_output is hex: "\x0a0b...".
  return Buffer.from(text.startsWith("\\x") ? text.slice(2) : text, "hex");
}

export interface DatabaseHandle {
  readonly kind: "pglite" | "postgres";
  readonly db: Database;
  /** Present on PGlite: the single embedded session (pubsub listens on it). */
  readonly pglite?: PGlite;
  /** Present on PostgreSQL: connection settings for dedicated connections (pubsub's listener). */
  readonly pgConnection?: pg.ClientConfig;
  /** Pings the database; rejects when it cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Skip migrations (the caller runs them, e.g. `chatd migrate`). Default false. */
  skipMigrations?: boolean;
  /** Sees every query the query builder sends (diagnostics, and tests that count reads). */
  onQuery?: QueryObserver;
}

export type QueryObserver = (query: string, params: unknown[]) => void;

/**
 * Drizzle's node-postgres driver passes per-query type parsers that fall back to pg's global
 * registry (ignoring a pool's own `types`), so int8 must be registered globally. This process is
 * the registry's only user.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8);

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.skipMigrations ?? false, logger);
  return openPglite(options.dataDir, options.skipMigrations ?? false, logger);
}

type QueryLogger = { logQuery: QueryObserver } | undefined;

async function openPostgres(databaseUrl: string, skipMigrations: boolean, logger: QueryLogger): Promise<DatabaseHandle> {
  const connection: pg.ClientConfig = { connectionString: databaseUrl, application_name: "chatd" };
  const pool = new pg.Pool({ ...connection, max: PG_POOL_MAX, connectionTimeoutMillis: PG_CONNECTION_TIMEOUT_MS });
  // An idle client that errors (server restart) must not crash the process; the pool drops it.
  pool.on("error", () => undefined);
  try {
    if (!skipMigrations) await migratePostgres(pool);
    else await pool.query("SELECT 1");
  } catch (error) {
    await pool.end();
    throw explainPostgresOpenError(error, databaseUrl);
  }
  const db: Database = drizzlePg(pool, { schema, ...(logger ? { logger } : {}) });
  return {
    kind: "postgres",
    db,
    pgConnection: connection,
    ping: async () => {
      await pool.query("SELECT 1");
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string, skipMigrations: boolean, logger: QueryLogger): Promise<DatabaseHandle> {
  const pgdata = path.join(path.resolve(dataDir), "pgdata");
  // Before the lock, which creates the directory: a refused start leaves the data directory as it was.
  checkPgdataPath(pgdata);
  const existed = fs.existsSync(pgdata);
  // PGlite rewrites postmaster.pid even when it then fails to open the database: put it back.
  const pidFile = path.join(pgdata, "postmaster.pid");
  const pidFileBefore = existed && fs.existsSync(pidFile) ? fs.readFileSync(pidFile) : undefined;
  const lock: DataDirLock = acquireDataDirLock(dataDir);
  let client: PGlite | undefined;
  try {
    try {
      client = await PGlite.create(pgdata, {
        parsers: {
          [pgliteTypes.INT8]: parseInt8,
          [pgliteTypes.BYTEA]: parseByteaHex,
        },
      });
    } catch (error) {
      // PGlite throws wasm aborts and plain objects: name the directory and what to do instead.
      if (existed) {
        if (pidFileBefore === undefined) fs.rmSync(pidFile, { force: true });
        else fs.writeFileSync(pidFile, pidFileBefore);
        throw explainPgliteOpenError(error, pgdata);
      }
      throw error instanceof Error ? error : new Error(`cannot create the embedded database in ${pgdata}: ${errorText(error)}`);
    }
    if (!skipMigrations) await migratePglite(client);
  } catch (error) {
    await client?.close().catch(() => undefined);
    lock.release();
    throw error;
  }
  const pglite = client;
  const db: Database = drizzlePglite(pglite, { schema, ...(logger ? { logger } : {}) });
  let closed = false;
  return {
    kind: "pglite",
    db,
    pglite,
    ping: async () => {
      await pglite.query("SELECT 1");
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await pglite.close();
      } finally {
        lock.release();
      }
    },
  };
}
