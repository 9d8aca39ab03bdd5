/**
 * The model factory: a model config plus its provider's credentials become an AI SDK language
 * model, the call settings for it, and the provider-executed tools (web search) it may use.
 * `openai` speaks the Responses API; `openai-compat` speaks Chat Completions at its base URL
 * (Ollama, vLLM, OpenRouter, …) with usage requested in the stream.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel, ToolSet } from "ai";
import type { ProviderCredentials } from "./providers.js";
import type { ModelCallConfig } from "../sdk/schemas/llm.js";

/** behavior.md section 5 item 6: max output tokens when the config does not say. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 32_000;

/**
 * The AI SDK refuses to build some providers without a key even when the server needs none
 * (a local Ollama); it then sends this placeholder, which such servers ignore.
 */
const KEYLESS_PLACEHOLDER = "chatd-no-key";

export function createLanguageModel(credentials: ProviderCredentials, modelId: string): LanguageModel {
  const apiKey = credentials.apiKey ?? KEYLESS_PLACEHOLDER;
  const baseURL = credentials.baseUrl;
  switch (credentials.provider) {
    case "openai":
      return createOpenAI({ apiKey, ...(baseURL ? { baseURL } : {}) }).responses(modelId);
    case "anthropic":
      return createAnthropic({ apiKey, ...(baseURL ? { baseURL } : {}) })(modelId);
    case "google":
      return createGoogleGenerativeAI({ apiKey, ...(baseURL ? { baseURL } : {}) })(modelId);
    case "openai-compat":
      return createOpenAICompatible({
        name: "openai-compat",
        baseURL: baseURL ?? "http://127.0.0.1:11434/v1",
        ...(credentials.apiKey ? { apiKey: credentials.apiKey } : {}),
        includeUsage: true,
      }).chatModel(modelId);
  }
}

export interface CallSettings {
  maxOutputTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Always 0: chatd's retry policy (retry.ts) owns retries. */
  maxRetries: 0;
}

export function callSettings(options: ModelCallConfig): CallSettings {
  return {
    maxOutputTokens: options.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.top_p === undefined ? {} : { topP: options.top_p }),
    ...(options.top_k === undefined ? {} : { topK: options.top_k }),
    ...(options.presence_penalty === undefined ? {} : { presencePenalty: options.presence_penalty }),
    ...(options.frequency_penalty === undefined ? {} : { frequencyPenalty: options.frequency_penalty }),
    maxRetries: 0,
  };
}

/**
 * Provider-executed tools enabled by the config. Their results come back inside the assistant
 * message; chatd never runs them. The keys are the names each provider requires.
 */
export function providerTools(credentials: ProviderCredentials, options: ModelCallConfig): ToolSet {
  const settings = options.provider_options;
  const apiKey = credentials.apiKey ?? KEYLESS_PLACEHOLDER;
  switch (credentials.provider) {
    case "anthropic": {
      const search = settings?.anthropic;
      if (!search?.web_search_enabled) return {};
      const anthropic = createAnthropic({ apiKey });
      return {
        web_search: anthropic.tools.webSearch_20250305({
          ...(search.allowed_domains?.length ? { allowedDomains: search.allowed_domains } : {}),
          ...(search.blocked_domains?.length ? { blockedDomains: search.blocked_domains } : {}),
        }),
      };
    }
    case "openai": {
      const search = settings?.openai;
      if (!search?.web_search_enabled) return {};
      const openai = createOpenAI({ apiKey });
      return {
        web_search: openai.tools.webSearch({
          ...(search.search_context_size ? { searchContextSize: search.search_context_size } : {}),
          ...(search.allowed_domains?.length ? { filters: { allowedDomains: search.allowed_domains } } : {}),
        }),
      };
    }
    case "google": {
      if (!settings?.google?.web_search_enabled) return {};
      return { google_search: createGoogleGenerativeAI({ apiKey }).tools.googleSearch({}) };
    }
    case "openai-compat":
      return {};
  }
}
