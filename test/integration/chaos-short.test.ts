/**
 * The shortened chaos run that `npm test` carries (the full one is `npm run test:chaos`): three
 * `chatd server` processes on PostgreSQL, 30 chats of three workspace tool calls each, two
 * replicas SIGKILLed and restarted mid-run. Every chat must finish with exactly its scripted
 * history, and no chat may stay orphaned longer than the lease plus one recovery sweep.
 * PostgreSQL only: PGlite serves one process, so there are no replicas to kill.
 */
import { describe, expect, it } from "vitest";
import { testDatabaseKind } from "../helpers/env.js";
import { describeFigures, runChaos } from "../helpers/chaos-run.js";

const postgres = testDatabaseKind() === "postgres";
/** Setup (tsx start-up of three replicas, two workspaces) plus the run, on a loaded machine. */
const TEST_TIMEOUT_MS = 240_000;

describe.runIf(postgres)("chaos, short", () => {
  it(
    "30 chats finish exactly once each while two replicas are killed",
    async () => {
      const figures = await runChaos({
        chats: 30,
        maxKills: 2,
        killIntervalMs: 1_500,
        chatsPerSecond: 15,
        workspaces: 2,
        chunkDelayMs: 60,
        finishTimeoutMs: 120_000,
      });
      console.log(describeFigures("chaos (short)", figures));
      expect(figures.problems).toEqual([]);
      expect(figures.finished).toBe(30);
      // Kills are timed, so on a fast run the chats may all finish before the second one; what
      // matters is that kills happened and orphaned chats that were then recovered exactly once.
      expect(figures.kills).toBeGreaterThanOrEqual(1);
      expect(figures.kills).toBeLessThanOrEqual(2);
      // A kill that orphaned nothing tested nothing.
      expect(figures.orphaned).toBeGreaterThan(0);
      expect(figures.reacquisitions).toBe(figures.orphaned);
    },
    TEST_TIMEOUT_MS,
  );
});
