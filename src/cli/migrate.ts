/** `chatd migrate`: applies pending migrations (the server also does this at start) and exits. */
import { loadConfig } from "../config/config.js";
import { openDatabase } from "../db/client.js";
import { parseFlags, SERVER_FLAGS } from "./usage.js";

export async function runMigrate(args: string[]): Promise<number> {
  const config = loadConfig(parseFlags(args, SERVER_FLAGS), process.env);
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await handle.close();
  process.stdout.write(`migrations applied (${handle.kind})\n`);
  return 0;
}
