import { defineConfig } from "vitest/config";

/**
 * Three projects: pure unit tests once, and every integration test twice, once on an embedded
 * PGlite database and once on PostgreSQL (CHATD_TEST_DB selects; each test file gets a fresh
 * database cloned from a migrated template made in global setup).
 */
const integration = (db: "pglite" | "postgres") => ({
  extends: true as const,
  test: {
    name: db,
    include: ["test/integration/**/*.test.ts"],
    env: { CHATD_TEST_DB: db },
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});

export default defineConfig({
  test: {
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      integration("pglite"),
      integration("postgres"),
    ],
  },
});
