/**
 * `chatd chat --model NAME`: turns what a person types (`anthropic:claude-sonnet-4-5`, or just
 * `claude-sonnet-4-5`, or a config id) into the model config id the API takes, using the
 * model-configs list the caller may use. A name that matches nothing, or several configs, is a
 * one-line usage error listing the names there are.
 */
import type { ModelConfigResponse } from "../sdk/schemas/llm.js";
import { isUuid } from "../util/parse.js";
import { UsageError } from "./usage.js";

/** How a config is named on the command line. */
export function modelName(config: Pick<ModelConfigResponse, "provider" | "model">): string {
  return `${config.provider}:${config.model}`;
}

function available(configs: readonly ModelConfigResponse[]): string {
  const names = [...new Set(configs.map(modelName))].sort();
  return names.length === 0 ? "no model is configured (an admin has to add one)" : `available: ${names.join(", ")}`;
}

/**
 * The id of the one enabled config `wanted` names. A UUID is taken as an id without asking
 * the server (which answers for an unknown one itself).
 */
export function resolveModel(wanted: string, configs: readonly ModelConfigResponse[]): string {
  if (isUuid(wanted)) return wanted.toLowerCase();
  const usable = configs.filter((config) => config.enabled);
  const colon = wanted.indexOf(":");
  const matches =
    colon > 0
      ? usable.filter((config) => config.provider === wanted.slice(0, colon) && config.model === wanted.slice(colon + 1))
      : usable.filter((config) => config.model === wanted);
  const [only, ...more] = matches;
  if (only && more.length === 0) return only.id;
  if (!only) throw new UsageError(`--model "${wanted}": no such model; ${available(usable)}`);
  // (provider, model) is not unique: two configs of one model differ in options; only an id tells them apart.
  const candidates = matches.map((config) => `${modelName(config)}${config.display_name ? ` "${config.display_name}"` : ""} (${config.id})`);
  const advice = colon > 0 ? "pass the config id" : "say provider:model, or pass the config id";
  throw new UsageError(`--model "${wanted}" matches ${matches.length} models: ${candidates.join(", ")}; ${advice}`);
}
