/**
 * Providers as the API shows them and as the model factory needs them. A provider is configured
 * by a database row (admin-given key and base URL), by an environment preset (OPENAI_API_KEY,
 * ANTHROPIC_API_KEY, GOOGLE_API_KEY), or not at all; every supported provider is listed either way.
 */
import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { chatProviders } from "../db/schema/index.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { SUPPORTED_PROVIDERS, type ProviderName, type ProviderResponse } from "../sdk/schemas/llm.js";

export type ProviderRow = typeof chatProviders.$inferSelect;

/** Environment variable per provider whose value becomes an env preset key. */
export const PROVIDER_ENV_VARS: Readonly<Partial<Record<ProviderName, string>>> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  google: "GOOGLE_API_KEY",
};

export type EnvProviderKeys = Partial<Record<ProviderName, string>>;

export function envProviderKeys(env: Record<string, string | undefined>): EnvProviderKeys {
  const keys: EnvProviderKeys = {};
  for (const provider of SUPPORTED_PROVIDERS) {
    const name = PROVIDER_ENV_VARS[provider];
    const value = name ? env[name]?.trim() : undefined;
    if (value) keys[provider] = value;
  }
  return keys;
}

export const DEFAULT_DISPLAY_NAMES: Readonly<Record<ProviderName, string>> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  google: "Google",
  "openai-compat": "OpenAI Compatible",
};

/** Go's zero time and nil UUID: how the reference API reports a provider that has no row. */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";
export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function isProviderName(value: string): value is ProviderName {
  return SUPPORTED_PROVIDERS.some((provider) => provider === value);
}

export function toProviderResponse(provider: ProviderName, row: ProviderRow | undefined, envKeys: EnvProviderKeys): ProviderResponse {
  const envKey = envKeys[provider] !== undefined;
  if (row) {
    return {
      id: row.id,
      provider,
      display_name: row.displayName || DEFAULT_DISPLAY_NAMES[provider],
      enabled: row.enabled,
      has_api_key: row.apiKeySealed !== "" || envKey,
      ...(row.baseUrl ? { base_url: row.baseUrl } : {}),
      source: "database",
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }
  return {
    id: NIL_UUID,
    provider,
    display_name: DEFAULT_DISPLAY_NAMES[provider],
    enabled: envKey,
    has_api_key: envKey,
    source: envKey ? "env_preset" : "supported",
    created_at: ZERO_TIME,
    updated_at: ZERO_TIME,
  };
}

export async function listProviderRows(q: Queryable): Promise<Map<ProviderName, ProviderRow>> {
  const rows = await q.select().from(chatProviders);
  const byName = new Map<ProviderName, ProviderRow>();
  for (const row of rows) if (isProviderName(row.provider)) byName.set(row.provider, row);
  return byName;
}

/** What the model factory needs to call a provider. */
export interface ProviderCredentials {
  provider: ProviderName;
  apiKey: string | undefined;
  baseUrl: string | undefined;
}

/**
 * The usable credentials of a provider, or undefined when it is disabled or has no way in. A
 * stored key wins over the env preset; openai-compat servers (Ollama, vLLM) may need no key.
 */
export function credentialsFor(
  provider: ProviderName,
  row: ProviderRow | undefined,
  envKeys: EnvProviderKeys,
  cipher: SecretCipher,
): ProviderCredentials | undefined {
  if (row && !row.enabled) return undefined;
  const apiKey = row && row.apiKeySealed !== "" ? cipher.open(row.apiKeySealed) : envKeys[provider];
  const baseUrl = row?.baseUrl || undefined;
  if (apiKey === undefined && !(provider === "openai-compat" && baseUrl)) return undefined;
  return { provider, apiKey, baseUrl };
}

/** Why a provider cannot be used, for GET /models; undefined when it can. */
export function unavailableReason(
  provider: ProviderName,
  row: ProviderRow | undefined,
  envKeys: EnvProviderKeys,
): "missing_api_key" | undefined {
  const hasKey = (row !== undefined && row.apiKeySealed !== "") || envKeys[provider] !== undefined;
  const keyless = provider === "openai-compat" && Boolean(row?.baseUrl);
  return hasKey || keyless ? undefined : "missing_api_key";
}

export async function findProviderRow(q: Queryable, provider: ProviderName): Promise<ProviderRow | undefined> {
  const [row] = await q.select().from(chatProviders).where(eq(chatProviders.provider, provider)).limit(1);
  return row;
}
