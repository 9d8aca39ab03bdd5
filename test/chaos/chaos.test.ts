/**
 * The full chaos run (`npm run test:chaos`, issue 11): three `chatd server` processes on
 * PostgreSQL, 300 chats of three Local-workspace tool calls each, and one replica SIGKILLed and
 * restarted every few seconds until every chat has finished. Prints the figures; fails on any
 * chat that did not finish, lost or duplicated a message, left a tool call without exactly one
 * result, or stayed orphaned past the lease plus one recovery sweep.
 */
import { describe, expect, it } from "vitest";
import { describeFigures, runChaos } from "../helpers/chaos-run.js";

const CHATS = 300;
/** Kills go on until every chat has finished; this only bounds a run that never converges. */
const MAX_KILLS = 1_000;
const TEST_TIMEOUT_MS = 20 * 60_000;

describe("chaos, full", () => {
  it(
    `${CHATS} chats finish exactly once each while replicas are killed every few seconds`,
    async () => {
      const figures = await runChaos({
        chats: CHATS,
        maxKills: MAX_KILLS,
        killIntervalMs: 3_000,
        chatsPerSecond: 5,
        workspaces: 4,
        chunkDelayMs: 60,
        finishTimeoutMs: 300_000,
      });
      console.log(describeFigures("chaos (full)", figures));
      expect(figures.problems).toEqual([]);
      expect(figures.finished).toBe(CHATS);
      expect(figures.orphaned).toBeGreaterThan(0);
      expect(figures.reacquisitions).toBe(figures.orphaned);
    },
    TEST_TIMEOUT_MS,
  );
});
