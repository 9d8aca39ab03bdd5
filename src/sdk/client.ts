/**
 * A typed HTTP client for the endpoints scripts and the CLI use. Every response is parsed with
 * the server's own schemas; an error answer becomes a `ChatdError` with the API's message.
 */
import { z } from "zod";
import { chatMessagesResponseSchema, chatSchema, type ChatResponse } from "../chats/api.js";
import type { ChatInputPart } from "../chats/input.js";
import { modelConfigResponseSchema } from "../llm/model-configs.js";
import { errorResponseSchema } from "../api/errors.js";
import { safeJson } from "../util/parse.js";

export class ChatdError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "ChatdError";
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
      throw new ChatdError(response.status, error.success ? error.data.message : `HTTP ${response.status}`, error.success ? error.data.detail : undefined);
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
}
