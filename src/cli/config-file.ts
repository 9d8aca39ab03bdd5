/**
 * The CLI's own config file: the server and API token `chatd login` stored, so the client
 * commands work without CHATD_URL/CHATD_TOKEN. It lives in $XDG_CONFIG_HOME/chatd/config.json
 * (~/.config/chatd/config.json without it). The token is a password: the file is written 0600 in
 * a 0700 directory, atomically (a temporary file renamed over it), so it is never readable by
 * others, not even for a moment, and never half written.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "./usage.js";

/** Only the owner may read the token (as ssh insists for a private key). */
const FILE_MODE = 0o600;
/** The directory holds nothing others need, and hides the file's name and temporary copies. */
const DIR_MODE = 0o700;
/** The bits that would let the group or others in. */
const SHARED_BITS = 0o077;

export const cliConfigSchema = z.object({
  url: z.url(),
  token: z.string().min(1),
  /** The token's id on the server, so `chatd logout` can revoke it. */
  key_id: z.string().min(1).optional(),
  /** Who logged in, for messages. */
  username: z.string().optional(),
});
export type CliConfig = z.infer<typeof cliConfigSchema>;

export function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative value is to be ignored.
  const base = xdg !== undefined && xdg !== "" && path.isAbsolute(xdg) ? xdg : path.join(env.HOME ?? os.homedir(), ".config");
  return path.join(base, "chatd");
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDirectory(env), "config.json");
}

function isMissing(error: unknown): boolean {
  return z.object({ code: z.literal("ENOENT") }).safeParse(error).success;
}

/** The stored config, or undefined when there is none. A damaged file is a usage error that names it. */
export function readCliConfig(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = () => undefined): CliConfig | undefined {
  const file = configPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON; run chatd login again, or delete it`);
  }
  const parsed = cliConfigSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`).join("; ");
    throw new UsageError(`${file} is not a chatd CLI config (${problems}); run chatd login again, or delete it`);
  }
  if ((fs.statSync(file).mode & SHARED_BITS) !== 0) warn(`chatd: warning: ${file} holds an API token and others can read it; run chmod 600 ${file}`);
  return parsed.data;
}

/** Writes the config (0600 in a 0700 directory) and returns its path. */
export function writeCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDirectory(env);
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  // mkdir leaves an existing directory's mode alone, and the umask may have widened a new one.
  fs.chmodSync(dir, DIR_MODE);
  const file = configPath(env);
  const temporary = path.join(dir, `.config.json.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temporary, `${JSON.stringify(cliConfigSchema.parse(config), null, 2)}\n`, { mode: FILE_MODE, flag: "w" });
    fs.chmodSync(temporary, FILE_MODE);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return file;
}

/** Removes the config; false when there was none. */
export function removeCliConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    fs.unlinkSync(configPath(env));
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}
