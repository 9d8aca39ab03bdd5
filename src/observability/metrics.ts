/** Prometheus metrics. One registry per server instance; default process metrics included. */
import { Counter, Gauge, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface ServerMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<"method" | "route" | "status">;
  loginFailures: Counter<"reason">;
}

/** Buckets from 5 ms (a cached read) to 10 s (a slow upload); the API has no longer requests. */
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "chatd_" });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: "chatd_http_request_duration_seconds",
      help: "HTTP request latency by method, matched route pattern and status code.",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
    }),
    loginFailures: new Counter({
      name: "chatd_login_failures_total",
      help: "Failed logins by reason (bad_credentials, suspended, throttled).",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}

/**
 * Counters kept by other parts as plain numbers (the event hub, the stream sockets), exported
 * at scrape time so those hot paths never touch prom-client.
 */
export function registerStreamMetrics(metrics: ServerMetrics, read: { droppedParts(): number; slowClosed(): number }): void {
  new Counter({
    name: "chatd_stream_parts_dropped_total",
    help: "Streamed parts dropped because a running chat's part buffer was full.",
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc(read.droppedParts());
    },
  });
  new Counter({
    name: "chatd_stream_slow_consumers_closed_total",
    help: "Stream WebSockets closed because the client fell too far behind.",
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc(read.slowClosed());
    },
  });
}

/** Workspace agents whose socket this replica holds (after their hello). */
export function registerAgentMetrics(metrics: ServerMetrics, read: { connectedAgents(): number }): void {
  new Gauge({
    name: "chatd_workspace_agents_connected",
    help: "Workspace agents connected to this replica.",
    registers: [metrics.registry],
    collect() {
      this.set(read.connectedAgents());
    },
  });
}
