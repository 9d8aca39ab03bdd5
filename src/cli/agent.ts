/**
 * `chatd agent --url URL [--token T | --token-stdin] [--directory DIR]`: the workspace agent.
 * It runs inside a workspace, dials the server and serves its tools until SIGTERM/SIGINT (exit 0)
 * or until the server keeps refusing its token (exit 1). The URL may also come from
 * CHATD_AGENT_URL, which the command provisioner gives its start command.
 *
 * The token comes from --token-stdin (the first line of stdin: in neither argv nor the
 * environment, how the local provisioner hands it over), else --token, else CHATD_AGENT_TOKEN.
 * CHATD_AGENT_TOKEN is deleted from the environment at once, so no child inherits it. Logs are
 * plain lines on stderr and never contain the token.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { startAgent } from "../agent/agent.js";
import { AGENT_TOKEN_ENV } from "../agent/env.js";
import { UsageError } from "./usage.js";

const AGENT_URL_ENV = "CHATD_AGENT_URL";
/** A token is ~33 characters; a first line longer than this is not a token. */
const MAX_TOKEN_LINE_BYTES = 4096;
/** After cleanup, a handle we do not know about must not keep a stopped agent alive. */
const EXIT_GRACE_MS = 2_000;

const agentFlags = z.object({
  url: z.url({ protocol: /^https?$/, message: `--url (or ${AGENT_URL_ENV}) must be the server's http(s) URL` }),
  token: z
    .string()
    .trim()
    .min(1, `set ${AGENT_TOKEN_ENV}, pass --token-stdin and write the token to stdin, or pass --token`),
  directory: z.string().min(1).optional(),
});

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} chatd agent: ${line}\n`);
}

/** The first line of stdin (without its newline); stdin is closed afterwards. */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const line = await new Promise<string>((resolve, reject) => {
    const finish = () => {
      process.stdin.off("data", onData);
      process.stdin.off("end", finish);
      const text = Buffer.concat(chunks).toString("utf8");
      resolve(text.split("\n")[0] ?? "");
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a)) finish();
      else if (size > MAX_TOKEN_LINE_BYTES) reject(new UsageError("--token-stdin: the first line of stdin is too long to be a token"));
    };
    process.stdin.on("data", onData);
    process.stdin.once("end", finish);
  });
  process.stdin.destroy();
  return line.replace(/\r$/, "");
}

function parseAgentArgs(args: string[]): { url?: string; token?: string; directory?: string; tokenStdin: boolean } {
  try {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        directory: { type: "string" },
        "token-stdin": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    return {
      ...(values.url === undefined ? {} : { url: values.url }),
      ...(values.token === undefined ? {} : { token: values.token }),
      ...(values.directory === undefined ? {} : { directory: values.directory }),
      tokenStdin: values["token-stdin"] === true,
    };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export async function runAgent(args: string[]): Promise<number> {
  const envToken = process.env[AGENT_TOKEN_ENV];
  delete process.env[AGENT_TOKEN_ENV];
  const flags = parseAgentArgs(args);
  const token = flags.tokenStdin ? await readFirstLine() : (flags.token ?? envToken ?? "");
  const parsed = agentFlags.safeParse({ url: flags.url ?? process.env[AGENT_URL_ENV] ?? "", token, directory: flags.directory });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "));
  const options = parsed.data;
  const directory = options.directory === undefined ? undefined : path.resolve(options.directory);
  if (directory !== undefined && !(await stat(directory).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`--directory ${directory} is not a directory`);
  }

  const agent = await startAgent({ url: options.url, token: options.token, ...(directory === undefined ? {} : { directory }), log });
  log(`started (directory ${agent.directory}, server ${options.url})`);
  const exitCode = await new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`received ${signal}; shutting down`);
      resolve(0);
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    void agent.fatal.then((reason) => {
      log(`${reason}; giving up`);
      resolve(1);
    });
  });
  await agent.stop();
  setTimeout(() => process.exit(exitCode), EXIT_GRACE_MS).unref();
  return exitCode;
}
