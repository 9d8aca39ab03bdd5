/**
 * Entry point of the `chatd` command: dispatches to a subcommand and maps failures to exit codes.
 * Subcommands are imported on demand, so `chatd agent` and `chatd gitaskpass` (which run inside
 * workspaces) never load the server, the database or the AI SDK.
 */
import { UsageError } from "./usage.js";
import { ConfigError } from "../config/config.js";
import { DataDirLockedError } from "../db/lock.js";
import { StartupError } from "../util/startup-error.js";

const HELP = `chatd: a self-hosted server where a team runs AI coding agents

Usage:
  chatd server [flags]            run the server (embedded database in ./.chatd by default)
  chatd migrate [flags]           apply database migrations and exit
  chatd users create [flags]      create a user (--username, --email, --password or
                                  CHATD_USER_PASSWORD, [--name], [--role owner|admin|member])
  chatd chat "<prompt>"           start a chat and print it live ([--model ID] [--workspace ID])
  chatd chat --follow <chat-id>   attach to a chat (server: --url or CHATD_URL; token: CHATD_TOKEN)
  chatd templates                 list workspace templates
  chatd workspaces list           your workspaces; also: create <name> [--template NAME]
                                  [--param name=value]…, start|stop|delete <name-or-id>
  chatd agent --url URL           run the workspace agent ([--directory DIR]; URL also CHATD_AGENT_URL;
                                  token: --token-stdin, CHATD_AGENT_TOKEN or --token)
  chatd gitaskpass "<prompt>"     answer a git credential prompt through the workspace agent
                                  (what the agent sets as GIT_ASKPASS)

Server flags (or environment variables):
  --listen host:port              CHATD_LISTEN (127.0.0.1:3000)
  --data-dir dir                  CHATD_DATA_DIR (./.chatd)
  --database-url url              CHATD_DATABASE_URL (unset: embedded PGlite)
  --encryption-key base64         CHATD_ENCRYPTION_KEY (32 bytes)
  --access-url url                CHATD_ACCESS_URL
  --relay-address url             CHATD_RELAY_ADDRESS
  --log-level level               CHATD_LOG_LEVEL (info)
  --chat-acquire-interval d       CHATD_CHAT_ACQUIRE_INTERVAL (1s)
  --chat-acquire-batch-size n     CHATD_CHAT_ACQUIRE_BATCH_SIZE (10)
  --chat-heartbeat-interval d     CHATD_CHAT_HEARTBEAT_INTERVAL (30s)
  --chat-stale-after d            CHATD_CHAT_STALE_AFTER (5m)
  --max-running-chats n           CHATD_MAX_RUNNING_CHATS (0 = no limit)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "server":
      return (await import("./server.js")).runServer(rest);
    case "migrate":
      return (await import("./migrate.js")).runMigrate(rest);
    case "users":
      return (await import("./users.js")).runUsers(rest);
    case "chat":
      return (await import("./chat.js")).runChat(rest);
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
      process.stdout.write(HELP);
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
