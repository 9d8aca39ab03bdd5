/**
 * A typed HTTP client of chatd's API, for the CLI, scripts, tests and the web UI. Every response
 * is parsed with the server's own schemas (sdk/schemas/); an error answer becomes a `ChatdError`
 * with the API's message, detail and field problems.
 *
 * Browser-safe: it imports only zod and pure modules. With a `token` every request carries
 * `Authorization: Bearer …`; without one it relies on the session cookie (a page served by chatd
 * on the same origin, `baseUrl: ""`). A token never travels in a URL.
 */
import { z } from "zod";
import {
  chatMessageSchema,
  chatMessagesResponseSchema,
  chatModelsResponseSchema,
  chatSchema,
  createChatMessageResponseSchema,
  uploadChatFileResponseSchema,
  userChatCustomPromptSchema,
  type ChatMessageResponse,
  type ChatMessagesResponse,
  type ChatModelsResponse,
  type ChatResponse,
  type CreateChatMessageRequest,
  type CreateChatMessageResponse,
  type CreateChatRequest,
  type EditChatMessageRequest,
  type UpdateChatRequest,
  type UploadChatFileResponse,
  type UserChatCustomPrompt,
} from "./schemas/chats.js";
import { errorResponseSchema, type ValidationError } from "./schemas/errors.js";
import { modelConfigResponseSchema, type ModelConfigResponse } from "./schemas/llm.js";
import {
  apiKeyResponseSchema,
  createKeyResponseSchema,
  loginResponseSchema,
  messageResponseSchema,
  userResponseSchema,
  type ApiKeyResponse,
  type CreatedApiKey,
  type CreateKeyRequest,
  type FirstUserRequest,
  type LoginRequest,
  type LoginResponse,
  type UserResponse,
} from "./schemas/users.js";
import {
  buildResponseSchema,
  buildWithLogResponseSchema,
  templateResponseSchema,
  workspaceResponseSchema,
  type BuildResponse,
  type BuildTransition,
  type BuildWithLogResponse,
  type ParameterValue,
  type TemplateResponse,
  type WorkspaceResponse,
} from "./schemas/workspaces.js";
import { safeJson } from "../util/parse.js";

export class ChatdError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    /** Which request fields were wrong, and why (400s from validation). */
    readonly validations: readonly ValidationError[] = [],
  ) {
    super(message);
    this.name = "ChatdError";
  }

  /** One line for a terminal: the message, its detail, and each field problem. */
  describe(): string {
    const problems = this.validations.map((problem) => `${problem.field}: ${problem.detail}`);
    return [this.message, this.detail, ...problems].filter(Boolean).join("; ");
  }
}

export interface ClientOptions {
  /** The server's URL, or "" for the page's own origin (the web UI). */
  baseUrl: string;
  /** A session or API token. Without one, requests rely on the session cookie. */
  token?: string;
  /** The fetch to use; the global one by default. */
  fetch?: typeof globalThis.fetch;
}

const CHATS = "/api/experimental/chats";
const ME = "/api/v2/users/me";
const segment = encodeURIComponent;

interface RequestInit {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (an upload), with `headers` saying what it is. */
  body?: Blob;
  headers?: Record<string, string>;
}

/** The origin of the page this runs in, for a same-origin client's WebSocket URLs. */
function pageOrigin(): string | undefined {
  const location: unknown = Reflect.get(globalThis, "location");
  if (typeof location !== "object" || location === null) return undefined;
  const origin: unknown = Reflect.get(location, "origin");
  return typeof origin === "string" ? origin : undefined;
}

/** `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): the exact name, and an ASCII stand-in. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\u0020-\u007e]/g, "_").replace(/[\\"]/g, "_");
  const exact = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

export class ChatdClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token === "" ? undefined : options.token;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The Authorization header value, or undefined for a cookie-authenticated client. */
  get authorization(): string | undefined {
    return this.#token === undefined ? undefined : `Bearer ${this.#token}`;
  }

  /** The ws(s):// URL of a WebSocket path on this server (the page's origin when `baseUrl` is ""). */
  socketUrl(path: string, query?: URLSearchParams): string {
    const base = this.baseUrl === "" ? pageOrigin() : this.baseUrl;
    if (base === undefined) throw new Error('a client with baseUrl "" needs a page origin for WebSockets');
    const url = new URL(`${base}${path}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (query) url.search = query.toString();
    return url.toString();
  }

  /** Where a chat file (an uploaded image) is served; usable as an `<img src>` on the same origin. */
  fileUrl(fileId: string): string {
    return `${this.baseUrl}${CHATS}/files/${segment(fileId)}`;
  }

  async #fetchOk(path: string, init: RequestInit): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const authorization = this.authorization;
    if (authorization !== undefined) headers.Authorization = authorization;
    let body: string | Blob | undefined = init.body;
    if (init.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const response = await this.#fetch(`${this.baseUrl}${path}`, {
      method: init.method ?? "GET",
      headers,
      credentials: "same-origin",
      ...(body === undefined ? {} : { body }),
    });
    if (response.ok) return response;
    const error = errorResponseSchema.safeParse(safeJson(await response.text()));
    if (!error.success) throw new ChatdError(response.status, `HTTP ${response.status}`);
    throw new ChatdError(response.status, error.data.message, error.data.detail, error.data.validations);
  }

  async #request<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
    const text = await (await this.#fetchOk(path, init)).text();
    return schema.parse(text === "" ? undefined : safeJson(text));
  }

  /** For answers whose body says nothing (204s, and `{message}` acknowledgements). */
  async #send(path: string, init: RequestInit): Promise<void> {
    await (await this.#fetchOk(path, init)).text();
  }

  // Users and sessions.

  /** Whether the first user exists (false: the server waits for `createFirstUser`). */
  async firstUserExists(): Promise<boolean> {
    try {
      await this.#request(messageResponseSchema, "/api/v2/users/first");
      return true;
    } catch (error) {
      if (error instanceof ChatdError && error.status === 404) return false;
      throw error;
    }
  }

  /** Creates the owner; only while no user exists (409 after). */
  createFirstUser(input: FirstUserRequest): Promise<UserResponse> {
    return this.#request(userResponseSchema, "/api/v2/users/first", { method: "POST", json: input });
  }

  /**
   * Logs in with a username or an email and a password. The answer sets the session cookie (for a
   * browser) and carries the session token (for a client that sends it as `token`).
   */
  login(input: { login: string; password: string }): Promise<LoginResponse> {
    const body: LoginRequest = input.login.includes("@")
      ? { email: input.login, password: input.password }
      : { username: input.login, password: input.password };
    return this.#request(loginResponseSchema, "/api/v2/users/login", { method: "POST", json: body });
  }

  /** Ends the current session (a session token or the cookie) and clears the cookie. */
  async logout(): Promise<void> {
    await this.#request(messageResponseSchema, "/api/v2/users/logout", { method: "POST" });
  }

  me(): Promise<UserResponse> {
    return this.#request(userResponseSchema, ME);
  }

  /** The caller's API tokens, without their secrets. */
  listKeys(): Promise<ApiKeyResponse[]> {
    return this.#request(z.array(apiKeyResponseSchema), `${ME}/keys`);
  }

  /** A new API token; its `key` is shown only in this answer. */
  createKey(input: CreateKeyRequest = {}): Promise<CreatedApiKey> {
    return this.#request(createKeyResponseSchema, `${ME}/keys`, { method: "POST", json: input });
  }

  deleteKey(keyId: string): Promise<void> {
    return this.#send(`${ME}/keys/${segment(keyId)}`, { method: "DELETE" });
  }

  // Chats.

  /** The caller's own chats, most recently updated first; `afterId` pages on from that chat. */
  listChats(options: { archived?: boolean; afterId?: string; limit?: number } = {}): Promise<ChatResponse[]> {
    const query = new URLSearchParams({ q: `archived:${options.archived === true}` });
    if (options.afterId !== undefined) query.set("after_id", options.afterId);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    return this.#request(z.array(chatSchema), `${CHATS}?${query}`);
  }

  getChat(chatId: string): Promise<ChatResponse> {
    return this.#request(chatSchema, `${CHATS}/${segment(chatId)}`);
  }

  /** Starts a chat from a first message; without `model_config_id` the default model runs it. */
  createChat(input: CreateChatRequest): Promise<ChatResponse> {
    return this.#request(chatSchema, CHATS, { method: "POST", json: input });
  }

  /** Archives or unarchives a chat (archiving takes its whole tree). */
  updateChat(chatId: string, input: UpdateChatRequest): Promise<void> {
    return this.#send(`${CHATS}/${segment(chatId)}`, { method: "PATCH", json: input });
  }

  /** Stops the running turn; the chat goes waiting. */
  interrupt(chatId: string): Promise<ChatResponse> {
    return this.#request(chatSchema, `${CHATS}/${segment(chatId)}/interrupt`, { method: "POST" });
  }

  /** A page of history, newest first (`beforeId` pages back), with the queue on the first page. */
  messages(chatId: string, options: { beforeId?: number; limit?: number } = {}): Promise<ChatMessagesResponse> {
    const query = new URLSearchParams();
    if (options.beforeId !== undefined) query.set("before_id", String(options.beforeId));
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    return this.#request(chatMessagesResponseSchema, `${CHATS}/${segment(chatId)}/messages?${query}`);
  }

  /** Sends a message; a busy chat queues it (`queued: true`, `queued_message`). */
  sendMessage(chatId: string, input: CreateChatMessageRequest): Promise<CreateChatMessageResponse> {
    return this.#request(createChatMessageResponseSchema, `${CHATS}/${segment(chatId)}/messages`, { method: "POST", json: input });
  }

  /** Rewrites a user message: later history is dropped, the queue emptied, and the chat runs again. */
  editMessage(chatId: string, messageId: number, input: EditChatMessageRequest): Promise<ChatMessageResponse> {
    return this.#request(chatMessageSchema, `${CHATS}/${segment(chatId)}/messages/${messageId}`, { method: "PATCH", json: input });
  }

  /** Removes a queued message (an unknown id is not an error). */
  deleteQueued(chatId: string, queuedId: number): Promise<void> {
    return this.#send(`${CHATS}/${segment(chatId)}/queue/${queuedId}`, { method: "DELETE" });
  }

  /** Moves a queued message into history now; the chat goes pending. */
  promoteQueued(chatId: string, queuedId: number): Promise<ChatMessageResponse> {
    return this.#request(chatMessageSchema, `${CHATS}/${segment(chatId)}/queue/${queuedId}/promote`, { method: "POST" });
  }

  /** Uploads an image (png, jpeg, gif or webp; up to 10 MiB) to attach as a `file` part. */
  uploadFile(file: Blob, name: string): Promise<UploadChatFileResponse> {
    const headers = { "Content-Type": file.type || "application/octet-stream", "Content-Disposition": contentDisposition(name) };
    return this.#request(uploadChatFileResponseSchema, `${CHATS}/files`, { method: "POST", body: file, headers });
  }

  /** What each provider offers the caller, and why one cannot be used. */
  chatModels(): Promise<ChatModelsResponse> {
    return this.#request(chatModelsResponseSchema, `${CHATS}/models`);
  }

  modelConfigs(): Promise<ModelConfigResponse[]> {
    return this.#request(z.array(modelConfigResponseSchema), `${CHATS}/model-configs`);
  }

  /** The caller's own custom prompt, added to every chat's system prompt. */
  getUserPrompt(): Promise<UserChatCustomPrompt> {
    return this.#request(userChatCustomPromptSchema, `${CHATS}/config/user-prompt`);
  }

  putUserPrompt(customPrompt: string): Promise<UserChatCustomPrompt> {
    const body: UserChatCustomPrompt = { custom_prompt: customPrompt };
    return this.#request(userChatCustomPromptSchema, `${CHATS}/config/user-prompt`, { method: "PUT", json: body });
  }

  // Templates and workspaces.

  templates(): Promise<TemplateResponse[]> {
    return this.#request(z.array(templateResponseSchema), "/api/v2/templates");
  }

  /** Workspaces the caller can see; `owner: "me"` narrows to their own. */
  /** `usable`: only workspaces the caller may attach to a chat (own and `use`-shared). */
  workspaces(options: { owner?: string; query?: string; usable?: boolean } = {}): Promise<WorkspaceResponse[]> {
    const query = new URLSearchParams();
    if (options.owner) query.set("owner", options.owner);
    if (options.query) query.set("q", options.query);
    if (options.usable) query.set("usable", "true");
    return this.#request(z.array(workspaceResponseSchema), `/api/v2/workspaces?${query}`);
  }

  workspace(workspaceId: string): Promise<WorkspaceResponse> {
    return this.#request(workspaceResponseSchema, `/api/v2/workspaces/${segment(workspaceId)}`);
  }

  createWorkspace(input: { template_id: string; name?: string; parameters?: Record<string, ParameterValue> }): Promise<WorkspaceResponse> {
    return this.#request(workspaceResponseSchema, "/api/v2/workspaces", { method: "POST", json: input });
  }

  buildWorkspace(workspaceId: string, transition: BuildTransition): Promise<BuildResponse> {
    return this.#request(buildResponseSchema, `/api/v2/workspaces/${segment(workspaceId)}/builds`, { method: "POST", json: { transition } });
  }

  /** A build with its log. */
  build(buildId: string): Promise<BuildWithLogResponse> {
    return this.#request(buildWithLogResponseSchema, `/api/v2/workspacebuilds/${segment(buildId)}`);
  }
}
