import { defineConfig } from "vitest/config";

/**
 * `npm run test:chaos`: the full chaos run of issue 11's reliability suite, on PostgreSQL only
 * (three replicas need a shared database). It takes minutes, so it is not part of `npm test`;
 * test/integration/chaos-short.test.ts is its shortened version there.
 */
export default defineConfig({
  test: {
    // global-setup.ts builds the PostgreSQL template for a project of this name.
    name: "postgres",
    pool: "forks",
    include: ["test/chaos/**/*.test.ts"],
    env: { CHATD_TEST_DB: "postgres" },
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 20 * 60_000,
    hookTimeout: 120_000,
  },
});
