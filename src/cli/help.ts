/**
 * The usage text of `chatd` and of each subcommand. main.ts answers `chatd <command> --help` (or
 * `-h`) from here before loading the command, so help works without a server, a database, or
 * even a valid configuration.
 */

const CLIENT_FLAGS = `Server and token (for every client command):
  --url URL        or CHATD_URL; else the server \`chatd login\` stored; else http://127.0.0.1:3000
  --token TOKEN    or CHATD_TOKEN (--token stays in shell history); else the token \`chatd login\`
                   stored for that server`;

const SERVER_FLAGS = `Flags (or environment variables):
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
  --github-api-url url            CHATD_GITHUB_API_URL (https://api.github.com; GitHub Enterprise)
  --gitsync-interval d            CHATD_GITSYNC_INTERVAL (10s; 0 turns PR status refresh off)
  --mcp-connect-timeout d         CHATD_MCP_CONNECT_TIMEOUT (10s)
  --mcp-call-timeout d            CHATD_MCP_CALL_TIMEOUT (60s)
  --mcp-idle-timeout d            CHATD_MCP_IDLE_TIMEOUT (5m)`;

export const MAIN_HELP = `chatd: a self-hosted server where a team runs AI coding agents

Usage:
  chatd server [flags]            run the server (embedded database in ./.chatd by default)
  chatd migrate [flags]           apply database migrations and exit
  chatd users create [flags]      create a user straight in the database (server stopped)
  chatd login [--url URL]         log in and store an API token for the commands below
  chatd logout                    revoke and forget the stored token
  chatd chat "<prompt>"           start a chat and print it live ([--model NAME] [--workspace ID])
  chatd chat --follow <chat-id>   attach to a chat
  chatd chats                     list your chats
  chatd templates                 list workspace templates
  chatd workspaces list           your workspaces; also create, start, stop, delete
  chatd agent --url URL           run the workspace agent (inside a workspace)
  chatd gitaskpass "<prompt>"     answer a git credential prompt through the workspace agent

Run chatd <command> --help for a command's flags.
`;

const HELP: Record<string, string> = {
  server: `usage: chatd server [flags]

Runs the server until SIGTERM or SIGINT, then shuts down gracefully.

${SERVER_FLAGS}
`,
  migrate: `usage: chatd migrate [flags]

Applies pending database migrations and exits (the server also does this at start).

${SERVER_FLAGS}
`,
  users: `usage: chatd users create --username U --email E [--password P] [--name N] [--role owner|admin|member]

Creates a user straight in the database: the first owner on a headless install, or recovery.
The password comes from --password or CHATD_USER_PASSWORD. It opens the data directory, so the
server must be stopped; with a running server, create users through the API or the web UI.
Takes the server's database flags (--data-dir, --database-url, …; see chatd server --help).
`,
  login: `usage: chatd login [--url URL] [--username NAME]

Asks for your username (or email) and password, logs in, creates an API token and stores
{url, token} in $XDG_CONFIG_HOME/chatd/config.json (~/.config/chatd/config.json), readable only
by you (mode 0600). chat, chats, workspaces and templates then need no CHATD_URL or CHATD_TOKEN.

The password is read without echo on a terminal; otherwise the username and password are read
as lines from stdin, or the password from CHATD_USER_PASSWORD.
  --url URL         the server (or CHATD_URL; default: the stored one, else http://127.0.0.1:3000)
  --username NAME   skip the username question
`,
  logout: `usage: chatd logout

Revokes the token \`chatd login\` stored (when the server can be reached) and deletes the file.
`,
  chat: `usage:
  chatd chat "<prompt>" [--model NAME] [--workspace ID]
  chatd chat --follow <chat-id>

Starts a chat (or attaches to one) and prints it live: the conversation on stdout, status lines
and the cost on stderr. Exits 0 when the agent finishes, 1 when it fails.
Ctrl-C once interrupts the chat (the agent stops; what it wrote is kept); twice exits at once.
  --model NAME      a model config: provider:model (anthropic:claude-sonnet-4-5), a model name
                    when only one provider offers it, or the config's id (default: the default model)
  --workspace ID    attach a workspace (its tools become the agent's)
  --follow ID       attach to an existing chat instead of starting one

${CLIENT_FLAGS}
`,
  chats: `usage: chatd chats [--archived] [--limit N] [--json]

Lists your chats, most recently updated first: id, title, status, when it last changed and what
it cost (its sub-agents included). A table on a terminal; tab-separated (id, title, status,
updated_at, cost in micro-dollars) when piped.
  --archived        list archived chats instead
  --limit N         at most N chats (1-200, default 50)
  --json            the API's chat objects, as a JSON array

${CLIENT_FLAGS}
`,
  templates: `usage: chatd templates

Lists workspace templates: name, display name, provisioner, id (tab-separated).

${CLIENT_FLAGS}
`,
  workspaces: `usage:
  chatd workspaces list
  chatd workspaces create <name> [--template NAME] [--param name=value]…
  chatd workspaces start|stop|delete <name-or-id>

create, start and stop wait for the build (and for create and start, the agent), and print the
build log when it fails. --template defaults to local.

${CLIENT_FLAGS}
`,
  agent: `usage: chatd agent --url URL [--directory DIR] [--token-stdin | --token TOKEN]

The program inside a workspace: connects to the server at URL (or CHATD_AGENT_URL) and runs the
agent's tools in DIR. The token comes from stdin (--token-stdin), CHATD_AGENT_TOKEN or --token.
`,
  gitaskpass: `usage: chatd gitaskpass "<prompt>"

What the workspace agent sets as GIT_ASKPASS: answers git's credential prompt through the agent.
`,
};

/** The usage of `command`, or undefined for a command that has none. */
export function commandHelp(command: string): string | undefined {
  return Object.hasOwn(HELP, command) ? HELP[command] : undefined;
}

/** Whether the arguments ask for help (`--help` or `-h` before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}
