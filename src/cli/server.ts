/** `chatd server`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
import { loadConfig } from "../config/config.js";
import { startServer } from "../server/server.js";
import { parseFlags, SERVER_FLAGS } from "./usage.js";

export async function runServer(args: string[]): Promise<number> {
  const config = loadConfig(parseFlags(args, SERVER_FLAGS), process.env);
  const server = await startServer(config);
  process.stdout.write(`chatd is running at ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      server.log.info({ signal }, "received signal");
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await server.close();
  return 0;
}
