/**
 * A fresh, migrated database for one test file, on the backend CHATD_TEST_DB selects.
 * `location` is what the server's config needs (a data directory, plus a URL on PostgreSQL).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/client.js";
import { pgUrlForDatabase, TEST_PG_ADMIN_URL, testDatabaseKind, type TestDatabaseKind } from "./env.js";

export interface TestDatabaseLocation {
  kind: TestDatabaseKind;
  /** Always a fresh temporary directory (holds PGlite's data on the embedded backend). */
  dataDir: string;
  databaseUrl?: string;
}

export interface FreshDatabase {
  location: TestDatabaseLocation;
  /** Opens the database (the caller closes the handle). On PGlite only one handle may be open. */
  open(): Promise<DatabaseHandle>;
  /** Removes the database; call after every handle is closed. */
  destroy(): Promise<void>;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

export async function freshDatabase(): Promise<FreshDatabase> {
  const kind = testDatabaseKind();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-test-"));
  if (kind === "pglite") {
    fs.cpSync(inject("pgliteTemplateDir"), dataDir, { recursive: true });
    const location: TestDatabaseLocation = { kind, dataDir };
    return {
      location,
      open: () => openDatabase({ dataDir }),
      destroy: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `chatd_test_${randomBytes(6).toString("hex")}`;
  const template = inject("pgTemplateDatabase");
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const databaseUrl = pgUrlForDatabase(name);
  const location: TestDatabaseLocation = { kind, dataDir, databaseUrl };
  return {
    location,
    open: () => openDatabase({ dataDir, databaseUrl }),
    destroy: async () => {
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers beforeAll/afterAll hooks that give the test file one fresh, open database and clean
 * it up. Read `handle` and `fresh` inside tests (they are set once beforeAll has run).
 */
export function useFreshDatabase(): { readonly handle: DatabaseHandle; readonly fresh: FreshDatabase } {
  let fresh: FreshDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  beforeAll(async () => {
    fresh = await freshDatabase();
    handle = await fresh.open();
  });
  afterAll(async () => {
    await handle?.close();
    await fresh?.destroy();
  });
  return {
    get handle() {
      if (!handle) throw new Error("useFreshDatabase: read handle inside a test, after beforeAll");
      return handle;
    },
    get fresh() {
      if (!fresh) throw new Error("useFreshDatabase: read fresh inside a test, after beforeAll");
      return fresh;
    },
  };
}
