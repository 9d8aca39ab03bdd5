/** Flag parsing shared by the subcommands. */
import { parseArgs } from "node:util";
import { CONFIG_FLAGS } from "../config/config.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses `--name value` flags; unknown flags and positionals are usage errors. */
export function parseFlags(args: string[], names: readonly string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    });
    const flags: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(values)) flags[name] = typeof value === "string" ? value : undefined;
    return flags;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The server configuration flags, accepted by every subcommand that opens the database. */
export const SERVER_FLAGS: readonly string[] = CONFIG_FLAGS;
