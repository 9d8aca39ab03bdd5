/**
 * A typed HTTP client for the endpoints scripts and the CLI use. Every response is parsed with
 * the server's own schemas; an error answer becomes a `ChatdError` with the API's message.
 */
import { z } from "zod";
import { chatMessagesResponseSchema, chatSchema, type ChatResponse } from "./schemas/chats.js";
import type { ChatInputPart } from "./schemas/parts.js";
import { modelConfigResponseSchema } from "./schemas/llm.js";
import { errorResponseSchema, type ValidationError } from "./schemas/errors.js";
import { buildResponseSchema, buildWithLogResponseSchema, templateResponseSchema, workspaceResponseSchema } from "./schemas/workspaces.js";
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
  baseUrl: string;
  token: string;
}

export class ChatdClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
  }

  get authorization(): string {
    return `Bearer ${this.#token}`;
  }

  async #request<S extends z.ZodType>(schema: S, path: string, init: { method?: string; body?: unknown } = {}): Promise<z.output<S>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: init.method ?? "GET",
      headers: { Authorization: this.authorization, ...(init.body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    const json: unknown = text === "" ? undefined : safeJson(text);
    if (!response.ok) {
      const error = errorResponseSchema.safeParse(json);
      if (!error.success) throw new ChatdError(response.status, `HTTP ${response.status}`);
      throw new ChatdError(response.status, error.data.message, error.data.detail, error.data.validations);
    }
    return schema.parse(json);
  }

  createChat(input: { content: ChatInputPart[]; model_config_id?: string; workspace_id?: string }): Promise<ChatResponse> {
    return this.#request(chatSchema, "/api/experimental/chats", { method: "POST", body: input });
  }

  getChat(chatId: string): Promise<ChatResponse> {
    return this.#request(chatSchema, `/api/experimental/chats/${encodeURIComponent(chatId)}`);
  }

  messages(chatId: string, options: { beforeId?: number; limit?: number } = {}) {
    const query = new URLSearchParams();
    if (options.beforeId !== undefined) query.set("before_id", String(options.beforeId));
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    return this.#request(chatMessagesResponseSchema, `/api/experimental/chats/${encodeURIComponent(chatId)}/messages?${query}`);
  }

  modelConfigs() {
    return this.#request(z.array(modelConfigResponseSchema), "/api/experimental/chats/model-configs");
  }

  templates() {
    return this.#request(z.array(templateResponseSchema), "/api/v2/templates");
  }

  /** Workspaces the caller can see; `owner: "me"` narrows to their own. */
  workspaces(options: { owner?: string; query?: string } = {}) {
    const query = new URLSearchParams();
    if (options.owner) query.set("owner", options.owner);
    if (options.query) query.set("q", options.query);
    return this.#request(z.array(workspaceResponseSchema), `/api/v2/workspaces?${query}`);
  }

  workspace(workspaceId: string) {
    return this.#request(workspaceResponseSchema, `/api/v2/workspaces/${encodeURIComponent(workspaceId)}`);
  }

  createWorkspace(input: { template_id: string; name?: string; parameters?: Record<string, string> }) {
    return this.#request(workspaceResponseSchema, "/api/v2/workspaces", { method: "POST", body: input });
  }

  buildWorkspace(workspaceId: string, transition: "start" | "stop" | "delete") {
    return this.#request(buildResponseSchema, `/api/v2/workspaces/${encodeURIComponent(workspaceId)}/builds`, { method: "POST", body: { transition } });
  }

  build(buildId: string) {
    return this.#request(buildWithLogResponseSchema, `/api/v2/workspacebuilds/${encodeURIComponent(buildId)}`);
  }
}
