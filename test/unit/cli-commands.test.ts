/**
 * The `chatd` client commands as real processes, where no server is needed: every subcommand's
 * --help, and the one-line answer when the server cannot be reached.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChatd } from "../helpers/process.js";
import { closedPort } from "../helpers/ports.js";

/** tsx compiles each process's sources at start; several at once on two cores take a while. */
const SPAWN_TIMEOUT_MS = 90_000;
const SUBCOMMANDS = ["server", "migrate", "users", "login", "logout", "chat", "chats", "templates", "workspaces", "agent", "gitaskpass"];

let configHome: string;
beforeAll(() => {
  configHome = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-cli-"));
});
afterAll(() => {
  fs.rmSync(configHome, { recursive: true, force: true });
});

async function chatd(args: string[], env: Record<string, string> = {}) {
  const cli = runChatd(args, { XDG_CONFIG_HOME: configHome, ...env });
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}


describe("chatd <command> --help", () => {
  it(
    "prints each subcommand's own usage and exits 0, with no server, database or configuration",
    async () => {
      // A data directory that cannot be one: a command that opened it instead of helping would fail.
      const env = { CHATD_DATA_DIR: "/dev/null/nowhere", CHATD_DATABASE_URL: "postgres://127.0.0.1:1/none" };
      const results = await Promise.all(SUBCOMMANDS.map(async (command) => ({ command, long: await chatd([command, "--help"], env), short: await chatd([command, "-h"], env) })));
      for (const { command, long, short } of results) {
        expect(long.code, `${command} --help: ${long.stderr}`).toBe(0);
        expect(long.stdout, command).toMatch(new RegExp(`^usage:[\\s\\S]*chatd ${command}`));
        expect(short.stdout, command).toBe(long.stdout);
        expect(long.stdout + long.stderr, command).not.toMatch(/\x1b/);
      }
      expect(new Set(results.map((r) => r.long.stdout)).size).toBe(SUBCOMMANDS.length);
      const top = await chatd(["--help"]);
      expect(top.code).toBe(0);
      for (const command of SUBCOMMANDS) expect(top.stdout).toContain(`chatd ${command}`);
    },
    SPAWN_TIMEOUT_MS,
  );
});

describe("with the server down", () => {
  it(
    "each client command prints one line saying so and exits 1, without a stack",
    async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const env = { CHATD_URL: url, CHATD_TOKEN: "some-token" };
      const runs = await Promise.all(
        [["chat", "hello"], ["chat", "--follow", "00000000-0000-4000-8000-000000000000"], ["chats"], ["templates"], ["workspaces", "list"]].map((args) => chatd(args, env)),
      );
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toBe(`chatd: cannot reach the chatd server at ${url} (connection refused); is it running? Set --url or CHATD_URL\n`);
        expect(run.stdout).toBe("");
      }
    },
    SPAWN_TIMEOUT_MS,
  );
});
