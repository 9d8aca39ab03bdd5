/**
 * The tiny protocol between `chatd gitaskpass` (run by git as GIT_ASKPASS) and its workspace
 * agent, over the unix socket named by CHATD_AGENT_SOCKET: one JSON line from gitaskpass, one
 * JSON line back, then the agent closes the connection.
 *
 * Kept free of agent internals so the gitaskpass command loads only this and zod.
 */
import type { Socket } from "node:net";
import { z } from "zod";
import { safeJson } from "../util/parse.js";

/** Names the agent's socket in every child's environment. */
export const AGENT_SOCKET_ENV = "CHATD_AGENT_SOCKET";
/** Set by the server's execute tool: which chat is running git (the server checks it belongs to this workspace). */
export const CHAT_ID_ENV = "CHATD_CHAT_ID";
/** Both messages are a few hundred bytes; anything near this is not a gitaskpass talking. */
export const ASKPASS_MAX_LINE_BYTES = 16 * 1024;

export const askpassRequestSchema = z.object({
  prompt: z.string().max(1024),
  /** The remote git is authenticating to, from the prompt (`Username for 'https://github.com': `). */
  url: z.string().min(1).max(2048),
  chat_id: z.string().max(64).optional(),
  git_branch: z.string().max(1024).optional(),
  git_remote_origin: z.string().max(2048).optional(),
});
export type AskpassRequest = z.infer<typeof askpassRequestSchema>;

export const askpassResponseSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), username: z.string(), password: z.string() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type AskpassResponse = z.infer<typeof askpassResponseSchema>;

/**
 * The URL in a git credential prompt, without any `user@` part: `Password for
 * 'https://bob@github.com': ` → `https://github.com`. Undefined when the prompt names none.
 */
export function promptUrl(prompt: string): string | undefined {
  const quoted = /'([^']+)'/.exec(prompt)?.[1];
  if (!quoted) return undefined;
  try {
    const url = new URL(quoted);
    url.username = "";
    url.password = "";
    return url.href.replace(/\/$/, "");
  } catch {
    return undefined;
  }
}

/** Resolves with the first line a socket sends, parsed as JSON; rejects past the size bound or on close. */
export function readJsonLine(socket: Socket): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
      size += chunk.length;
      if (newline !== -1) {
        cleanup();
        resolve(safeJson(Buffer.concat(chunks).toString("utf8")));
      } else if (size > ASKPASS_MAX_LINE_BYTES) {
        cleanup();
        reject(new Error("message too long"));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("connection closed before a full message arrived"));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
  });
}
