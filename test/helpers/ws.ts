/** A WebSocket client for the stream endpoints that collects frames and waits on them. */
import WebSocket from "ws";
import { waitFor } from "./wait.js";

export interface Frame {
  type: "ping" | "data" | "error";
  data?: unknown;
}

export interface StreamClient {
  frames: Frame[];
  /** Data events flattened in arrival order (a frame's array expanded). */
  events(): unknown[];
  waitForEvents(predicate: (events: unknown[]) => boolean, message: string, timeoutMs?: number): Promise<unknown[]>;
  closed: Promise<number>;
  close(): void;
}

export async function connectStream(url: string, token: string): Promise<StreamClient> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers: { Authorization: `Bearer ${token}` } });
  const frames: Frame[] = [];
  ws.on("message", (data: WebSocket.RawData) => {
    const parsed: unknown = JSON.parse(data.toString());
    if (typeof parsed === "object" && parsed !== null && "type" in parsed) {
      const type = parsed.type;
      if (type === "ping" || type === "data" || type === "error") frames.push({ type, data: "data" in parsed ? parsed.data : undefined });
    }
  });
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  const events = () => frames.flatMap((frame) => (frame.type !== "data" ? [] : Array.isArray(frame.data) ? frame.data : [frame.data]));
  return {
    frames,
    events,
    waitForEvents: async (predicate, message, timeoutMs = 15_000) => {
      await waitFor(() => predicate(events()), { timeoutMs, message });
      return events();
    },
    closed,
    close: () => ws.close(),
  };
}

/** The status code a refused upgrade answers with. */
export async function refusedUpgrade(url: string, headers: Record<string, string>): Promise<number> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  return new Promise<number>((resolve, reject) => {
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("open", () => {
      ws.close();
      reject(new Error("upgrade was accepted"));
    });
    ws.once("error", () => undefined);
  });
}
