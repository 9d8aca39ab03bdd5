/**
 * Entry point of the `chatd` command: dispatches to a subcommand and maps failures to exit codes.
 * Subcommands are imported on demand, so `chatd agent` and `chatd gitaskpass` (which run inside
 * workspaces) never load the server, the database or the AI SDK.
 */
import { commandHelp, MAIN_HELP, wantsHelp } from "./help.js";
import { UsageError } from "./usage.js";
import { ConfigError } from "../config/config.js";
import { DataDirLockedError } from "../db/lock.js";
import { StartupError } from "../util/startup-error.js";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const help = command === undefined ? undefined : commandHelp(command === "help" ? (rest[0] ?? "") : command);
  // Before the command loads: help needs no server, database or valid configuration.
  if (help !== undefined && (command === "help" || wantsHelp(rest))) {
    process.stdout.write(help);
    return 0;
  }
  switch (command) {
    case "server":
      return (await import("./server.js")).runServer(rest);
    case "migrate":
      return (await import("./migrate.js")).runMigrate(rest);
    case "users":
      return (await import("./users.js")).runUsers(rest);
    case "login":
      return (await import("./login.js")).runLogin(rest);
    case "logout":
      return (await import("./login.js")).runLogout(rest);
    case "chat":
      return (await import("./chat.js")).runChat(rest);
    case "chats":
      return (await import("./chats.js")).runChats(rest);
    case "workspaces":
    case "templates":
      return (await import("./workspaces.js")).runWorkspaces(command, rest);
    case "agent":
      return (await import("./agent.js")).runAgent(rest);
    case "gitaskpass":
      return (await import("./gitaskpass.js")).runGitAskpass(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(MAIN_HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"; run chatd --help`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`chatd: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof DataDirLockedError || error instanceof StartupError) {
    process.stderr.write(`chatd: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`chatd: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
