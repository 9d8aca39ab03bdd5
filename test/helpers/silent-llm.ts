/**
 * A "provider" that accepts connections and never answers: chats that the worker picks up while a
 * test exercises routes stay `running` and write nothing, so the routes' effects stand alone.
 */
import net from "node:net";

export interface SilentLlm {
  /** Base URL to configure a provider with. */
  baseUrl: string;
  close(): Promise<void>;
}

export async function startSilentLlm(): Promise<SilentLlm> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
