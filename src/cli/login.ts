/**
 * `chatd login [--url URL] [--username NAME]` and `chatd logout`.
 *
 * login asks for a username (or email) and a password, logs in, creates an API token for this
 * machine, ends the login session again (only the token is kept), and stores {url, token} in the
 * CLI config file (config-file.ts: mode 0600). Logging in again replaces the stored token and
 * revokes the old one, so tokens do not pile up. logout revokes the stored token when the server
 * answers, and deletes the file either way.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ChatdError } from "../sdk/client.js";
import { StartupError } from "../util/startup-error.js";
import { stdinAsker, type Asker } from "./ask.js";
import { configPath, readCliConfig, removeCliConfig, writeCliConfig, type CliConfig } from "./config-file.js";
import { cliClient, DEFAULT_SERVER_URL, describeApiError, runClientCommand } from "./connection.js";
import { UsageError } from "./usage.js";

/** The API caps a token's name at 64 characters. */
const MAX_KEY_NAME = 64;

const loginFlags = z.object({
  url: z.url({ message: "--url (or CHATD_URL) must be an http(s) URL", protocol: /^https?$/ }),
  username: z.string().trim().min(1, "--username must not be empty").optional(),
});

function readArgs(args: string[], stored: CliConfig | undefined) {
  let values: { url?: string | undefined; username?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: { url: { type: "string" }, username: { type: "string" } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; usage: chatd login [--url URL] [--username NAME]`);
  }
  const envUrl = process.env.CHATD_URL === "" ? undefined : process.env.CHATD_URL;
  const parsed = loginFlags.safeParse({ url: values.url ?? envUrl ?? stored?.url ?? DEFAULT_SERVER_URL, username: values.username });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "));
  return { url: parsed.data.url.replace(/\/+$/, ""), username: parsed.data.username };
}

function keyName(): string {
  return `chatd CLI on ${os.hostname()}`.slice(0, MAX_KEY_NAME);
}

/** Revokes a stored token; says why not when it cannot. Never throws: the caller goes on either way. */
async function revoke(config: CliConfig): Promise<string> {
  if (config.key_id === undefined) return "the token was not revoked (its id is unknown); delete it in the web UI";
  try {
    await cliClient({ url: config.url, token: config.token }).deleteKey(config.key_id);
    return "the token was revoked";
  } catch (error) {
    // Refused or gone: the token no longer works anyway.
    if (error instanceof ChatdError && (error.status === 401 || error.status === 404)) return "the token was already invalid";
    const why = error instanceof ChatdError ? describeApiError(error) : error instanceof StartupError ? error.message : String(error);
    return `the token could not be revoked (${why}); delete it in the web UI`;
  }
}

export async function runLogin(args: string[]): Promise<number> {
  const stored = readCliConfig(process.env, (line) => process.stderr.write(`${line}\n`));
  const flags = readArgs(args, stored);
  let asker: Asker | undefined;
  const ask = () => (asker ??= stdinAsker());
  return runClientCommand(async () => {
    try {
      const login = (flags.username ?? (await ask().ask("Username or email: "))).trim();
      if (login === "") throw new UsageError("a username or email is needed");
      const fromEnv = process.env.CHATD_USER_PASSWORD;
      const password = fromEnv !== undefined && fromEnv !== "" ? fromEnv : await ask().secret("Password: ");
      if (password === "") throw new UsageError("a password is needed (typed, on stdin, or in CHATD_USER_PASSWORD)");
      asker?.close();

      const { session_token: session } = await cliClient({ url: flags.url }).login({ login, password });
      const sessionClient = cliClient({ url: flags.url, token: session });
      const key = await sessionClient.createKey({ name: keyName() });
      const me = await cliClient({ url: flags.url, token: key.key }).me();
      // Only the token is kept; the session would otherwise linger until it expires.
      await sessionClient.logout().catch(() => undefined);

      const replaced = stored && stored.token !== key.key ? await revoke(stored) : undefined;
      const file = writeCliConfig({ url: flags.url, token: key.key, key_id: key.id, username: me.username });
      process.stdout.write(`logged in to ${flags.url} as ${me.username}; the API token is stored in ${file}\n`);
      if (replaced) process.stderr.write(`chatd: replaced the previous login (${stored?.url}): ${replaced}\n`);
      return 0;
    } finally {
      asker?.close();
    }
  }, () => flags.url);
}

export async function runLogout(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError("usage: chatd logout");
  let stored: CliConfig | undefined;
  try {
    stored = readCliConfig();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // A damaged file holds no token we could revoke; removing it is all logout can do.
    removeCliConfig();
    process.stdout.write(`removed ${configPath()}, which was not a valid config (${error.message})\n`);
    return 0;
  }
  if (!stored) {
    process.stdout.write(`not logged in (no ${configPath()})\n`);
    return 0;
  }
  const outcome = await revoke(stored);
  removeCliConfig();
  process.stdout.write(`logged out of ${stored.url}; ${outcome}\n`);
  return 0;
}
