/**
 * A fingerprint of the whole database: every table in the public schema (listed from
 * information_schema, so a new table is covered without touching this file), its row count and a
 * hash of its content. Two equal snapshots mean no row was added, removed or changed.
 *
 * Each row is hashed as its JSON (`to_jsonb`, minus the columns below), and the row hashes are
 * ordered before they are combined: the result is the content of `SELECT * ... ORDER BY` a total
 * order, independent of where PostgreSQL happens to store the rows.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../../src/db/client.js";
import { queryRows } from "../../src/db/raw.js";

/**
 * Columns that change when a request is merely *served*, or on a timer, not because a request
 * changed anything: leaving them in would flag every authenticated request as a write.
 */
export const VOLATILE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  // Touched on use: the session's sliding expiry moves forward with it (auth/credentials.ts).
  sessions: ["last_used_at", "expires_at"],
  // Touched on use, at most once per interval (auth/credentials.ts).
  api_keys: ["last_used_at"],
  // Each replica's background heartbeat (replicas/registry.ts).
  replicas: ["heartbeat_at"],
};

export interface TableFingerprint {
  rows: number;
  digest: string;
}

export type DatabaseSnapshot = ReadonlyMap<string, TableFingerprint>;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export async function listTables(q: Queryable): Promise<string[]> {
  const rows = await queryRows(
    q,
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((row) => String(row.table_name));
}

/** Every table's fingerprint, in one query (a round trip per table would dominate a fuzz run). */
export async function snapshotDatabase(q: Queryable): Promise<DatabaseSnapshot> {
  const tables = await listTables(q);
  const selects = tables.map((table) => {
    const volatile = VOLATILE_COLUMNS[table] ?? [];
    const without = volatile.length === 0 ? "" : ` - ARRAY[${volatile.map(quoteLiteral).join(", ")}]::text[]`;
    return (
      `SELECT ${quoteLiteral(table)} AS table_name, count(*)::int AS row_count, coalesce(md5(string_agg(h, ',' ORDER BY h)), '') AS digest ` +
      `FROM (SELECT md5((to_jsonb(t)${without})::text) AS h FROM public.${quoteIdentifier(table)} AS t) AS hashed`
    );
  });
  const snapshot = new Map<string, TableFingerprint>();
  if (selects.length === 0) return snapshot;
  for (const row of await queryRows(q, sql.raw(selects.join(" UNION ALL ")))) {
    snapshot.set(String(row.table_name), { rows: Number(row.row_count), digest: String(row.digest) });
  }
  return snapshot;
}

/** The tables whose count or content differ, each described as `name (rows a → b)`. */
export function changedTables(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  const changed: string[] = [];
  for (const name of [...names].sort()) {
    const a = before.get(name);
    const b = after.get(name);
    if (a?.rows === b?.rows && a?.digest === b?.digest) continue;
    changed.push(`${name} (rows ${a?.rows ?? "absent"} → ${b?.rows ?? "absent"})`);
  }
  return changed;
}
