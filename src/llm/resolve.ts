/**
 * From a model config id to everything a model call needs: the AI SDK model, call settings,
 * provider tools, pricing and the context limit. Reads the database; holds no transaction.
 */
import type { LanguageModel, ToolSet } from "ai";
import type { Queryable } from "../db/client.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { callSettings, createLanguageModel, providerTools, type CallSettings } from "./factory.js";
import { findLiveModelConfig, type ModelConfigRow } from "./model-configs.js";
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
