/**
 * The model picker's options: every enabled model config, labelled by its display name, and
 * disabled with a reason a person understands when its provider cannot be used right now.
 */
import type { ModelConfigResponse, ChatModelsResponse } from "../../../src/sdk/schemas/index.js";

export interface ModelOption {
  id: string;
  label: string;
  provider: string;
  isDefault: boolean;
  disabledReason?: string;
}

const REASONS: Record<string, string> = {
  missing_api_key: "provider has no API key",
  fetch_failed: "provider unreachable",
};

export function modelOptions(configs: readonly ModelConfigResponse[], providers: ChatModelsResponse["providers"]): ModelOption[] {
  const availability = new Map(providers.map((provider) => [provider.provider, provider]));
  return configs
    .filter((config) => config.enabled)
    .map((config) => {
      const provider = availability.get(config.provider);
      const reason = provider && !provider.available ? REASONS[provider.unavailable_reason ?? ""] ?? "provider unavailable" : undefined;
      return {
        id: config.id,
        label: config.display_name || config.model,
        provider: config.provider,
        isDefault: config.is_default,
        ...(reason ? { disabledReason: reason } : {}),
      };
    })
    .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.label.localeCompare(b.label));
}
