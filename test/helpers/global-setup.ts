/**
 * Runs once per integration project: builds a migrated template database that each test file
 * clones (PGlite: a copied data directory; PostgreSQL: CREATE DATABASE ... TEMPLATE), so a file
 * gets a fresh database in a fraction of the cost of initdb plus migrations.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.js";
import { pgUrlForDatabase, TEST_PG_ADMIN_URL } from "./env.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplateDir: string;
    pgTemplateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Project env applies to test workers only; global setup reads the project's name instead.
  const kind = project.name === "postgres" ? "postgres" : "pglite";
  if (kind === "pglite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-pglite-template-"));
    const handle = await openDatabase({ dataDir: dir });
    await handle.close();
    project.provide("pgliteTemplateDir", dir);
    project.provide("pgTemplateDatabase", "");
    return async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const name = `chatd_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const handle = await openDatabase({ dataDir: "", databaseUrl: pgUrlForDatabase(name) });
  await handle.close();
  project.provide("pgliteTemplateDir", "");
  project.provide("pgTemplateDatabase", name);
  return async () => {
    const cleanup = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  };
}
