/** Which database the integration tests run on, and where PostgreSQL is. */
export type TestDatabaseKind = "pglite" | "postgres";

export function testDatabaseKind(): TestDatabaseKind {
  const kind = process.env.CHATD_TEST_DB ?? "pglite";
  if (kind !== "pglite" && kind !== "postgres") throw new Error(`CHATD_TEST_DB must be pglite or postgres, not ${kind}`);
  return kind;
}

/** Admin connection used to create and drop per-file databases. */
export const TEST_PG_ADMIN_URL = process.env.CHATD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function pgUrlForDatabase(name: string): string {
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
