/**
 * The chat metrics on /metrics (issue 16), named after Coder's chat scale test so its dashboards
 * read the same: how long a chat waits to run and to show its first output, how long steps and
 * tool calls take, why steps are retried, how runs end, how many viewers are streaming, how much
 * work is queued, how often a worker loses a lease, and how long agent calls take.
 *
 * Invariants:
 * - Recording is synchronous and cheap (a histogram observe or a counter increment); nothing on a
 *   chat's hot path awaits a metric. Gauges that need a count are read at scrape time.
 * - Label values come from small fixed sets (statuses, retry reasons, tool names, agent methods),
 *   never from ids or free text, so a label cannot grow the registry without bound.
 * - `ChatMetrics` is an interface with a no-op implementation, so modules that record take it as
 *   an optional dependency and unit tests need no registry.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** From 10 ms (an idle replica picks a chat up at once) to 5 min (a backlog, or a dead replica's lease). */
const WAIT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Model steps run from a second to many minutes (long answers, slow tools). */
const STEP_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Tool calls range from a file read (ms) to a command's 10-minute timeout. */
const TOOL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];
/** Agent calls: a ping on the same host is sub-millisecond; 30 s is the call deadline. */
const AGENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

/** Why a step was retried; anything else is `other`. */
export const RETRY_REASONS = ["rate_limited", "overloaded", "server_error", "unreachable", "stream_cut", "timeout", "other"] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

export interface ChatMetrics {
  /** Seconds from the chat becoming pending to a worker leasing it. */
  timeToRunning(seconds: number): void;
  /** Seconds from a run's start to its first streamed part. Once per run. */
  timeToFirstOutput(seconds: number): void;
  /** Seconds one model step took, its tools included. */
  stepDuration(seconds: number): void;
  toolCall(tool: string, seconds: number, isError: boolean): void;
  retry(reason: RetryReason): void;
  /** How a run ended: waiting, error, pending (handed back) or lost. */
  terminalStatus(status: "waiting" | "error" | "pending" | "lost"): void;
  /** The worker found its lease gone (heartbeat touched no row). */
  leaseLost(): void;
  agentCall(method: string, seconds: number, outcome: "ok" | "error" | "unavailable"): void;
}

export const NO_CHAT_METRICS: ChatMetrics = {
  timeToRunning: () => undefined,
  timeToFirstOutput: () => undefined,
  stepDuration: () => undefined,
  toolCall: () => undefined,
  retry: () => undefined,
  terminalStatus: () => undefined,
  leaseLost: () => undefined,
  agentCall: () => undefined,
};

/** Read at scrape time. */
export interface ChatGaugeSources {
  activeStreams(): number;
  runningChats(): number;
  /** Pending chats in the whole deployment (one indexed count). */
  queueDepth(): Promise<number>;
}

/**
 * Tool names are the registry's (fixed) plus MCP's `<slug>__<tool>`, which admins configure: a
 * bounded set. A name that looks like neither is counted as `other`.
 */
const TOOL_LABEL = /^[a-z0-9_-]{1,128}$/i;

export function createChatMetrics(registry: Registry, gauges: ChatGaugeSources): ChatMetrics {
  const timeToRunning = new Histogram({
    name: "chatd_chat_time_to_running_seconds",
    help: "Time from a chat becoming pending to a worker running it.",
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const timeToFirstOutput = new Histogram({
    name: "chatd_chat_time_to_first_output_seconds",
    help: "Time from a run's start to its first streamed part.",
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: "chatd_chat_step_duration_seconds",
    help: "Duration of one model step, its tool calls and retries included.",
    buckets: STEP_BUCKETS,
    registers: [registry],
  });
  const toolCalls = new Histogram({
    name: "chatd_chat_tool_call_duration_seconds",
    help: "Duration of a tool call by tool and outcome.",
    labelNames: ["tool", "outcome"],
    buckets: TOOL_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: "chatd_chat_retry_events_total",
    help: "Model calls retried, by reason.",
    labelNames: ["reason"],
    registers: [registry],
  });
  const terminal = new Counter({
    name: "chatd_chat_terminal_status_total",
    help: "Runs ended, by the status they left the chat in (pending: handed back; lost: lease lost).",
    labelNames: ["status"],
    registers: [registry],
  });
  const leaseLosses = new Counter({
    name: "chatd_chat_lease_losses_total",
    help: "Runs stopped because this worker's lease on the chat was gone.",
    registers: [registry],
  });
  const agentCalls = new Histogram({
    name: "chatd_agent_call_duration_seconds",
    help: "Round trip of a call to a workspace agent, by method and outcome.",
    labelNames: ["method", "outcome"],
    buckets: AGENT_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "chatd_active_chat_streams",
    help: "Chat stream WebSockets open on this replica.",
    registers: [registry],
    collect() {
      this.set(gauges.activeStreams());
    },
  });
  new Gauge({
    name: "chatd_chats_running",
    help: "Chats this replica is running.",
    registers: [registry],
    collect() {
      this.set(gauges.runningChats());
    },
  });
  new Gauge({
    name: "chatd_chat_queue_depth",
    help: "Pending chats waiting for a worker, deployment-wide.",
    registers: [registry],
    async collect() {
      this.set(await gauges.queueDepth().catch(() => Number.NaN));
    },
  });
  for (const reason of RETRY_REASONS) retries.inc({ reason }, 0);
  for (const status of ["waiting", "error", "pending", "lost"]) terminal.inc({ status }, 0);
  return {
    timeToRunning: (seconds) => timeToRunning.observe(seconds),
    timeToFirstOutput: (seconds) => timeToFirstOutput.observe(seconds),
    stepDuration: (seconds) => stepDuration.observe(seconds),
    toolCall: (tool, seconds, isError) => toolCalls.observe({ tool: TOOL_LABEL.test(tool) ? tool : "other", outcome: isError ? "error" : "ok" }, seconds),
    retry: (reason) => retries.inc({ reason }),
    terminalStatus: (status) => terminal.inc({ status }),
    leaseLost: () => leaseLosses.inc(),
    agentCall: (method, seconds, outcome) => agentCalls.observe({ method, outcome }, seconds),
  };
}

/** The retry reason of an error message as llm/retry.ts describes it. */
export function retryReason(message: string): RetryReason {
  const text = message.toLowerCase();
  if (/\b429\b|rate.?limit/.test(text)) return "rate_limited";
  if (/\b529\b|overloaded/.test(text)) return "overloaded";
  if (/econnrefused|enotfound|eai_again|unreachable|fetch failed/.test(text)) return "unreachable";
  if (/unexpected eof|econnreset|other side closed|terminated|socket hang up/.test(text)) return "stream_cut";
  if (/timed? ?out|etimedout/.test(text)) return "timeout";
  if (/\b5\d\d\b|server error/.test(text)) return "server_error";
  return "other";
}
