/** `chatd server`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
import { loadConfig } from "../config/config.js";
import { startServer } from "../server/server.js";
import { parseFlags, SERVER_FLAGS } from "./usage.js";

export async function runServer(args: string[]): Promise<number> {
  const config = loadConfig(parseFlags(args, SERVER_FLAGS), process.env);
  // Listen for signals before starting: one that arrives during start-up still gets a clean stop
  // (once start-up finishes) instead of the default, which kills the process mid-migration.
  let received: NodeJS.Signals | undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      received = signal;
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  const server = await startServer(config);
  process.stdout.write(`chatd is running at ${server.url}\n`);
  const signal = received ?? (await stopRequested);
  server.log.info({ signal }, "received signal");
  await server.close();
  return 0;
}
