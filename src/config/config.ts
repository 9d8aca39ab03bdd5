/**
 * Server configuration: flags win over `CHATD_*` environment variables, which win over defaults
 * (PRODUCT.md section 6). Every value is validated here, once, so the rest of the server can trust
 * a typed `ServerConfig`; a bad value produces one message per problem naming the flag or variable.
 */
import { z } from "zod";
import { parseDurationMs } from "./duration.js";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** One entry per setting: its flag, its variable, and how to read the raw text. */
const SETTINGS = {
  listen: { flag: "listen", env: "CHATD_LISTEN", default: "127.0.0.1:3000" },
  dataDir: { flag: "data-dir", env: "CHATD_DATA_DIR", default: "./.chatd" },
  databaseUrl: { flag: "database-url", env: "CHATD_DATABASE_URL", default: undefined },
  encryptionKey: { flag: "encryption-key", env: "CHATD_ENCRYPTION_KEY", default: undefined },
  accessUrl: { flag: "access-url", env: "CHATD_ACCESS_URL", default: undefined },
  relayAddress: { flag: "relay-address", env: "CHATD_RELAY_ADDRESS", default: undefined },
  logLevel: { flag: "log-level", env: "CHATD_LOG_LEVEL", default: "info" },
  chatAcquireInterval: { flag: "chat-acquire-interval", env: "CHATD_CHAT_ACQUIRE_INTERVAL", default: "1s" },
  chatAcquireBatchSize: { flag: "chat-acquire-batch-size", env: "CHATD_CHAT_ACQUIRE_BATCH_SIZE", default: "10" },
  chatHeartbeatInterval: { flag: "chat-heartbeat-interval", env: "CHATD_CHAT_HEARTBEAT_INTERVAL", default: "30s" },
  chatStaleAfter: { flag: "chat-stale-after", env: "CHATD_CHAT_STALE_AFTER", default: "5m" },
  maxRunningChats: { flag: "max-running-chats", env: "CHATD_MAX_RUNNING_CHATS", default: "0" },
  // behavior.md section 6: an MCP server gets 10 s to connect (else it is skipped) and a tool call 60 s.
  mcpConnectTimeout: { flag: "mcp-connect-timeout", env: "CHATD_MCP_CONNECT_TIMEOUT", default: "10s" },
  mcpCallTimeout: { flag: "mcp-call-timeout", env: "CHATD_MCP_CALL_TIMEOUT", default: "60s" },
  // A pooled MCP connection unused this long is closed (stdio servers are processes on this host).
  mcpIdleTimeout: { flag: "mcp-idle-timeout", env: "CHATD_MCP_IDLE_TIMEOUT", default: "5m" },
  // GitHub Enterprise serves its REST API elsewhere (https://HOST/api/v3); tests point it at a fake.
  githubApiUrl: { flag: "github-api-url", env: "CHATD_GITHUB_API_URL", default: "https://api.github.com" },
  // behavior.md section 8: the gitsync worker ticks every 10 s; tests shorten it.
  gitsyncInterval: { flag: "gitsync-interval", env: "CHATD_GITSYNC_INTERVAL", default: "10s" },
} as const satisfies Record<string, { flag: string; env: string; default: string | undefined }>;

type SettingName = keyof typeof SETTINGS;
function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}
export type RawSettings = Partial<Record<SettingName, string>>;

export const CONFIG_FLAGS: readonly string[] = Object.values(SETTINGS).map((s) => s.flag);

const duration = (min: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not a duration (examples: 500ms, 1s, 5m, 1h)` });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min}ms` });
      return z.NEVER;
    }
    return ms;
  });

const integer = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `"${text}" must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return value;
  });

const listenAddress = z.string().transform((text, ctx) => {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    ctx.addIssue({ code: "custom", message: `"${text}" must be host:port, e.g. 127.0.0.1:3000 or [::1]:3000` });
    return z.NEVER;
  }
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
});

const httpUrl = z.string().transform((text, ctx) => {
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return url.toString().replace(/\/$/, "");
  } catch {
    // fall through to the issue below
  }
  ctx.addIssue({ code: "custom", message: `"${text}" must be an http:// or https:// URL` });
  return z.NEVER;
});

const postgresUrl = z.string().refine(
  (text) => {
    try {
      const url = new URL(text);
      return url.protocol === "postgres:" || url.protocol === "postgresql:";
    } catch {
      return false;
    }
  },
  // The URL may hold a password, so the message never repeats it.
  { message: "must be a postgres:// or postgresql:// URL" },
);

const encryptionKey = z.string().transform((text, ctx) => {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) {
    // Never echo the value: it is a secret.
    ctx.addIssue({ code: "custom", message: "must be 32 bytes encoded in base64 (openssl rand -base64 32)" });
    return z.NEVER;
  }
  return key;
});

const configSchema = z.object({
  listen: listenAddress,
  dataDir: z.string().min(1, "must not be empty"),
  databaseUrl: postgresUrl.optional(),
  encryptionKey: encryptionKey.optional(),
  accessUrl: httpUrl.optional(),
  relayAddress: httpUrl.optional(),
  logLevel: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }),
  chatAcquireInterval: duration(10),
  chatAcquireBatchSize: integer(1, 1000),
  chatHeartbeatInterval: duration(100),
  chatStaleAfter: duration(1000),
  // 0 means no per-replica limit.
  maxRunningChats: integer(0, 100_000),
  mcpConnectTimeout: duration(10),
  mcpCallTimeout: duration(10),
  mcpIdleTimeout: duration(100),
  githubApiUrl: httpUrl,
  // 0 turns the background worker off (GET /chats/{chat} still refreshes on demand).
  gitsyncInterval: duration(0),
});

export type ServerConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Merges flags over environment over defaults and validates. `flags` uses flag names
 * (`data-dir`), `env` is usually `process.env`.
 */
export function loadConfig(flags: Record<string, string | undefined>, env: Record<string, string | undefined>): ServerConfig {
  const raw: Record<string, string | undefined> = {};
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const fromFlag = flags[setting.flag];
    const fromEnv = env[setting.env];
    raw[name] = fromFlag ?? (fromEnv === "" ? undefined : fromEnv) ?? setting.default;
  }
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "");
    const setting = isSettingName(name) ? SETTINGS[name] : undefined;
    const where = setting ? `--${setting.flag} / ${setting.env}` : name;
    return `${where}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}
