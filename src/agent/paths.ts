/**
 * Where a path the server names lives on this machine: `~` and `~/…` expand to $HOME, relative
 * paths resolve against the agent's directory, and the result is always absolute and normalized.
 * Every tool goes through here, so "relative to what?" has one answer.
 */
import { homedir } from "node:os";
import path from "node:path";

export function homeDirectory(): string {
  return process.env.HOME || homedir();
}

export function resolveAgentPath(input: string, directory: string): string {
  if (input === "~") return homeDirectory();
  if (input.startsWith("~/")) return path.join(homeDirectory(), input.slice(2));
  return path.resolve(directory, input);
}
