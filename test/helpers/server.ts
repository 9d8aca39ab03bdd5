/**
 * Starts the real server (in this process, on a free port) on a fresh database of the backend
 * CHATD_TEST_DB selects, captures its log lines, and makes authenticated requests against it.
 */
import path from "node:path";
import { loadConfig } from "../../src/config/config.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import type { ChatTool } from "../../src/chatd/tools/registry.js";
import type { WorkspaceRuntimeTuning } from "../../src/workspaces/runtime.js";
import { freshDatabase, type FreshDatabase } from "./database.js";

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON, or undefined when empty. */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  method?: string;
  /** Serialized as JSON unless it is already a string. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  database: FreshDatabase;
  /** Every log line the server wrote, raw. */
  logs: string[];
  request(pathname: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Creates the first user (owner) and logs in. */
  createOwner(): Promise<TestUser>;
  /** Creates a user with `roles` through the API as `creator`, and logs in. */
  createUser(creator: TestUser, roles?: string[], name?: string): Promise<TestUser>;
  login(login: string, password: string): Promise<string>;
  close(): Promise<void>;
}

let userCounter = 0;

/** Requests against a server at `baseUrl`: JSON in, parsed JSON (or raw text) out. */
export function apiRequester(baseUrl: string): (pathname: string, options?: RequestOptions) => Promise<ApiResponse> {
  return async (pathname, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["Content-Type"] ??= "application/json";
    }
    const response = await fetch(`${baseUrl}${pathname}`, { method: options.method ?? "GET", headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
}

export interface TestServerOptions {
  /** A built web UI to serve; by default none exists. */
  webDir?: string;
  /** Environment for provider presets (OPENAI_API_KEY, …); empty by default, whatever this machine has. */
  env?: Record<string, string>;
  chatTools?: readonly ChatTool[];
  /** Workspace runtime tuning (the environment bwrap is looked for in, a fake agent, …). */
  workspaces?: WorkspaceRuntimeTuning;
  /** Defaults to 5 ms so retry tests do not wait seconds. */
  retryBaseDelayMs?: number;
  /** Extra server flags (`chat-heartbeat-interval`, …). */
  flags?: Record<string, string>;
  /** Another replica on this database (PostgreSQL): the first server owns and destroys it. */
  database?: FreshDatabase;
  onQuery?: (query: string, params: unknown[]) => void;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? (await freshDatabase());
  const logs: string[] = [];
  const config = loadConfig(
    {
      listen: "127.0.0.1:0",
      // Each replica has its own data directory (encryption key file, PGlite lock).
      "data-dir": ownsDatabase ? database.location.dataDir : path.join(database.location.dataDir, `replica-${Date.now()}`),
      "database-url": database.location.databaseUrl,
      "log-level": "debug",
      ...options.flags,
    },
    {},
  );
  const server = await startServer(config, {
    logDestination: { write: (line: string) => void logs.push(line) },
    webDir: options.webDir ?? path.join(database.location.dataDir, "no-web-ui"),
    env: options.env ?? {},
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
    retryBaseDelayMs: options.retryBaseDelayMs ?? 5,
    ...(options.chatTools ? { chatTools: options.chatTools } : {}),
    ...(options.workspaces ? { workspaces: options.workspaces } : {}),
  });

  const request = apiRequester(server.url);

  const login = async (identifier: string, password: string): Promise<string> => {
    const response = await request("/api/v2/users/login", { method: "POST", body: { email: identifier, password } });
    const token = field(response.body, "session_token");
    if (response.status !== 201 || typeof token !== "string") throw new Error(`login failed: ${response.status} ${response.text}`);
    return token;
  };

  const makeUser = async (create: (body: Record<string, unknown>) => Promise<ApiResponse>, roles?: string[], name?: string) => {
    userCounter += 1;
    const username = name ?? `user${userCounter}-${process.pid}`;
    const email = `${username}@example.com`;
    const password = `password-${userCounter}-secret`;
    const response = await create({ username, email, password, ...(roles ? { roles } : {}) });
    const id = field(response.body, "id");
    if (response.status !== 201 || typeof id !== "string") throw new Error(`create user failed: ${response.status} ${response.text}`);
    return { id, username, email, password, token: await login(username, password) };
  };

  return {
    url: server.url,
    server,
    database,
    logs,
    request,
    login,
    createOwner: () =>
      makeUser((body) => request("/api/v2/users/first", { method: "POST", body }), undefined, `owner-${process.pid}`),
    createUser: (creator, roles, name) =>
      makeUser((body) => request("/api/v2/users", { method: "POST", body, token: creator.token }), roles, name),
    close: async () => {
      await server.close();
      if (ownsDatabase) await database.destroy();
    },
  };
}

/** Reads one property of a parsed JSON body without trusting its shape. */
export function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null && name in body ? Reflect.get(body, name) : undefined;
}

/** The `field` names of an error response's `validations`, in order. */
export function validationFields(body: unknown): unknown[] {
  const validations = field(body, "validations");
  return Array.isArray(validations) ? validations.map((v) => field(v, "field")) : [];
}

/**
 * Configures an Anthropic provider at `baseUrl` (a mock) and one model config through the admin
 * API; returns the config's id.
 */
export async function configureAnthropicModel(
  t: TestServer,
  admin: TestUser,
  baseUrl: string,
  config: Record<string, unknown> = {},
): Promise<string> {
  const provider = await t.request("/api/experimental/chats/providers", {
    method: "POST",
    token: admin.token,
    body: { provider: "anthropic", api_key: "sk-ant-test-key-0000000000", base_url: baseUrl },
  });
  if (provider.status !== 201 && provider.status !== 409) throw new Error(`provider setup failed: ${provider.text}`);
  const created = await t.request("/api/experimental/chats/model-configs", {
    method: "POST",
    token: admin.token,
    body: { provider: "anthropic", model: "claude-sonnet-4-5", context_limit: 200_000, ...config },
  });
  const id = field(created.body, "id");
  if (created.status !== 201 || typeof id !== "string") throw new Error(`model config setup failed: ${created.text}`);
  return id;
}
