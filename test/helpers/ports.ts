/** Ports for tests that need an address nothing answers on. */
import net from "node:net";

/**
 * A port nothing listens on: one the kernel just handed out and took back (fetch refuses the low
 * "bad ports" such as 1 outright, so a fixed one will not do).
 */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
