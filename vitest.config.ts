import { defineConfig } from "vitest/config";

/**
 * Four projects: pure unit tests once; every integration test twice, once on an embedded
 * PGlite database and once on PostgreSQL (CHATD_TEST_DB selects; each test file gets a fresh
 * database cloned from a migrated template made in global setup); and the browser tests, which
 * drive Debian's Chromium against the real server and the built web UI (on PGlite: what they
 * test is the UI, and the API below it is covered on both databases).
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
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          env: { CHATD_TEST_DB: "pglite" },
          globalSetup: ["test/helpers/global-setup.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
