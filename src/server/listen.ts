/**
 * The listen address, checked before the database is opened: a port that is taken must refuse the
 * start before anything is written to the data directory (a first start would otherwise create
 * the embedded database and the encryption key, then fail).
 */
import net from "node:net";
import { StartupError } from "../util/startup-error.js";

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code: unknown = Reflect.get(error, "code");
  return typeof code === "string" ? code : undefined;
}

/** One line for a listen failure the operator can fix; other errors come back unchanged. */
export function explainListenError(error: unknown, host: string, port: number): unknown {
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (errorCode(error)) {
    case "EADDRINUSE":
      return new StartupError(`cannot listen on ${address}: the port is already in use (another chatd?); stop that process or choose another with --listen (CHATD_LISTEN)`, { cause: error });
    case "EACCES":
      return new StartupError(`cannot listen on ${address}: permission denied (ports below 1024 need privileges); choose another with --listen (CHATD_LISTEN)`, { cause: error });
    case "EADDRNOTAVAIL":
      return new StartupError(`cannot listen on ${address}: no network interface has that address; fix --listen (CHATD_LISTEN)`, { cause: error });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new StartupError(`cannot listen on ${address}: the host name does not resolve; fix --listen (CHATD_LISTEN)`, { cause: error });
  }
  return error;
}

/**
 * Binds the address and lets it go again. Port 0 (any free port) always succeeds. Another process
 * can still take the port in between; the real listen maps that failure the same way.
 */
export async function assertListenAddressFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error) => reject(explainListenError(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
