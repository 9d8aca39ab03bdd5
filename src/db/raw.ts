/**
 * Raw SQL for what the query builder cannot say (advisory locks, pg_notify, SKIP LOCKED batches).
 * Under the combined `Database` type, `execute()` returns `unknown`; both drivers answer an object
 * with a `rows` array, which this checks instead of trusting a cast.
 */
import type { SQL } from "drizzle-orm";
import type { Queryable } from "./client.js";

export type RawRow = Record<string, unknown>;

function isRow(value: unknown): value is RawRow {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rowsOf(result: unknown): RawRow[] {
  if (typeof result === "object" && result !== null && "rows" in result && Array.isArray(result.rows)) {
    return result.rows.filter(isRow);
  }
  throw new Error("unexpected result shape from the database driver");
}

export async function queryRows(q: Queryable, query: SQL): Promise<RawRow[]> {
  return rowsOf(await q.execute(query));
}
