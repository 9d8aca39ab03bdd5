/**
 * Which server and token a client command (chat, chats, workspaces, templates, logout) uses, the
 * client it talks through, and how its failures read on a terminal.
 *
 * Precedence: --url/--token, then CHATD_URL/CHATD_TOKEN, then what `chatd login` stored. The
 * stored token is used only for the stored server: a token given to one server is never sent to
 * another one named on the command line.
 *
 * The SDK stays free of CLI concerns; this is its boundary. A network failure (server down, wrong
 * host) becomes a `StartupError` (main prints it as one line, exit 1) instead of undici's
 * `TypeError: fetch failed`; an API error answer (`ChatdError`) and an answer that is not chatd's
 * API (`ZodError`) become one line on stderr and exit 1.
 */
import { z } from "zod";
import { ChatdClient, ChatdError } from "../sdk/client.js";
import { StartupError } from "../util/startup-error.js";
import { readCliConfig } from "./config-file.js";
import { UsageError } from "./usage.js";

/** Where `chatd server` listens by default, so a local install needs no flags at all. */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:3000";

/** A failure found by the CLI itself (a name that matches nothing): one line, exit 1. */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliFailure";
  }
}

export const NO_TOKEN_MESSAGE = "no API token: run chatd login, or set CHATD_TOKEN (an API token: POST /api/v2/users/me/keys), or pass --token";

export interface Connection {
  url: string;
  token: string;
}

const urlSchema = z.url({ message: "--url (or CHATD_URL) must be an http(s) URL", protocol: /^https?$/ });

/** The same server whatever the spelling (a trailing slash, an explicit default port). */
function sameServer(a: string, b: string): boolean {
  const normalize = (value: string) => {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  };
  return normalize(a) === normalize(b);
}

/** Resolves the server and token, or throws a usage error saying how to provide them. */
export function resolveConnection(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): Connection {
  const stored = readCliConfig(env, (line) => process.stderr.write(`${line}\n`));
  const given = flags.url ?? (env.CHATD_URL === "" ? undefined : env.CHATD_URL);
  const url = urlSchema.safeParse(given ?? stored?.url ?? DEFAULT_SERVER_URL);
  if (!url.success) throw new UsageError(url.error.issues.map((issue) => issue.message).join("; "));
  const explicit = flags.token ?? (env.CHATD_TOKEN === "" ? undefined : env.CHATD_TOKEN);
  const token = explicit ?? (stored && sameServer(stored.url, url.data) ? stored.token : undefined);
  if (token === undefined || token === "") {
    const hint = stored ? ` (the stored login is for ${stored.url})` : "";
    throw new UsageError(`${NO_TOKEN_MESSAGE}${hint}`);
  }
  return { url: url.data.replace(/\/+$/, ""), token };
}

const errnoSchema = z.object({ code: z.string() });

/** Why a connection failed, in words, from undici's `cause` (a system error with a code). */
export function networkReason(error: unknown): string | undefined {
  if (!(error instanceof TypeError)) return undefined;
  const cause: unknown = error.cause;
  const errno = errnoSchema.safeParse(cause);
  const code = errno.success ? errno.data.code : undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      if (cause instanceof Error) return cause.message;
      return error.message === "fetch failed" ? undefined : error.message;
  }
}

export function unreachable(url: string, reason: string | undefined): StartupError {
  return new StartupError(`cannot reach the chatd server at ${url}${reason ? ` (${reason})` : ""}; is it running? Set --url or CHATD_URL`);
}

/** A fetch that turns "could not connect" into the one-line StartupError. */
export function reachableFetch(url: string, inner: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    try {
      return await inner(input, init);
    } catch (error) {
      const reason = networkReason(error);
      if (error instanceof TypeError && (reason !== undefined || error.message === "fetch failed")) throw unreachable(url, reason);
      throw error;
    }
  };
}

export function cliClient(connection: { url: string; token?: string }): ChatdClient {
  return new ChatdClient({ baseUrl: connection.url, ...(connection.token === undefined ? {} : { token: connection.token }), fetch: reachableFetch(connection.url) });
}

/** An API error as one line: the server's message and detail, the status, and what to do for a 401. */
export function describeApiError(error: ChatdError): string {
  const hint = error.status === 401 ? "; run chatd login, or check CHATD_TOKEN" : "";
  return `${error.describe()} (HTTP ${error.status})${hint}`;
}

/**
 * Runs a client command, printing an API error or an unexpected answer as one line (exit 1).
 * StartupError and UsageError pass through to main, which prints them the same way.
 */
export async function runClientCommand(command: () => Promise<number>, url?: () => string | undefined): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof ChatdError || error instanceof CliFailure) {
      process.stderr.write(`chatd: ${error instanceof ChatdError ? describeApiError(error) : error.message}\n`);
      return 1;
    }
    if (error instanceof z.ZodError) {
      const first = error.issues[0];
      const where = first ? ` (${first.path.join(".") || "body"}: ${first.message})` : "";
      process.stderr.write(`chatd: the server at ${url?.() ?? "that address"} did not answer like a chatd server of this version${where}\n`);
      return 1;
    }
    throw error;
  }
}
