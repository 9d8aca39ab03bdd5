/**
 * From a model config id to everything a model call needs: the AI SDK model, call settings,
 * provider tools, pricing and the context limit. Reads the database; holds no transaction.
 */
import type { LanguageModel, ToolSet } from "ai";
import type { Queryable } from "../db/client.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { callSettings, createLanguageModel, providerTools, type CallSettings } from "./factory.js";
import { findLiveModelConfig, listModelConfigs, type ModelConfigRow } from "./model-configs.js";
import { readStoredOptions } from "./model-options.js";
import { credentialsFor, findProviderRow, isProviderName, type EnvProviderKeys } from "./providers.js";
import type { ModelCallConfig, ProviderName } from "../sdk/schemas/llm.js";

export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelUnavailableError";
  }
}

export interface ResolvedModel {
  config: ModelConfigRow;
  provider: ProviderName;
  model: LanguageModel;
  settings: CallSettings;
  tools: ToolSet;
  options: ModelCallConfig;
}

export async function resolveModel(
  q: Queryable,
  cipher: SecretCipher,
  envKeys: EnvProviderKeys,
  configId: string,
): Promise<ResolvedModel> {
  const config = await findLiveModelConfig(q, configId);
  if (!config) throw new ModelUnavailableError(`model config ${configId} does not exist or was deleted`);
  if (!isProviderName(config.provider)) throw new ModelUnavailableError(`unsupported provider "${config.provider}"`);
  const provider = config.provider;
  const credentials = credentialsFor(provider, await findProviderRow(q, provider), envKeys, cipher);
  if (!credentials) throw new ModelUnavailableError(`provider ${provider} is disabled or has no API key`);
  const options = readStoredOptions(config.options);
  return {
    config,
    provider,
    model: createLanguageModel(credentials, config.model),
    settings: callSettings(options),
    tools: providerTools(credentials, options),
    options,
  };
}

/** behavior.md section 5: computer-use chats always run on this Anthropic model. */
export const COMPUTER_USE_PROVIDER = "anthropic";
export const COMPUTER_USE_MODEL = "claude-opus-4-6";

/**
 * The model of a `computer_use` chat: Anthropic's COMPUTER_USE_MODEL whatever the chat's config
 * says. An admin's live config for that model (enabled or not) supplies its pricing and call
 * options, and its id goes on the chat's messages, so cost reports name the model that ran;
 * without one, the messages keep the chat's config id and the steps stay unpriced (the chat's
 * config prices another model, and guessing Opus prices would be worse than no price).
 */
export async function resolveComputerUseModel(
  q: Queryable,
  cipher: SecretCipher,
  envKeys: EnvProviderKeys,
  chatConfigId: string,
): Promise<ResolvedModel> {
  const credentials = credentialsFor(COMPUTER_USE_PROVIDER, await findProviderRow(q, COMPUTER_USE_PROVIDER), envKeys, cipher);
  if (!credentials) throw new ModelUnavailableError(`computer use needs the ${COMPUTER_USE_PROVIDER} provider, which is disabled or has no API key`);
  const own = (await listModelConfigs(q, false)).find((config) => config.provider === COMPUTER_USE_PROVIDER && config.model === COMPUTER_USE_MODEL);
  const config = own ?? (await findLiveModelConfig(q, chatConfigId)) ?? (await listModelConfigs(q, true)).find((row) => row.isDefault);
  if (!config) throw new ModelUnavailableError("no chat model config is available to record the computer-use steps against");
  const options = own ? readStoredOptions(own.options) : {};
  return {
    config,
    provider: COMPUTER_USE_PROVIDER,
    model: createLanguageModel(credentials, COMPUTER_USE_MODEL),
    settings: callSettings(options),
    // Provider tools (web search) belong to the admin's config; the computer tool comes from the registry.
    tools: {},
    options,
  };
}
