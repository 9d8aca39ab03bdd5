/**
 * Reading tool arguments and results for display. Arguments stream as partial JSON, so parsing
 * is best-effort; results follow behavior.md section 1 (`{"error": msg}` with is_error, plain
 * output wrapped as `{"output": text}`, images as `{data, mime_type, text}`).
 */
import type { ChatMessagePart } from "../../../../src/sdk/schemas/index.js";

export function parseArgs(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

export function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === "string" ? found : undefined;
}

export function numberField(value: unknown, key: string): number | undefined {
  const found = field(value, key);
  return typeof found === "number" ? found : undefined;
}

/** A string argument that may still be streaming: read from the partial JSON text when unparsable. */
export function streamingString(args: unknown, argsText: string, key: string): string | undefined {
  const parsed = stringField(args, key);
  if (parsed !== undefined) return parsed;
  const match = new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)`).exec(argsText);
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(`"${match[1].replace(/\\$/, "")}"`);
  } catch {
    return match[1];
  }
}

export function resultIsError(result: ChatMessagePart): boolean {
  return result.is_error === true || (isRecord(result.result) && typeof result.result.error === "string" && result.result.success !== true);
}

export function errorText(result: ChatMessagePart | undefined): string | undefined {
  return result ? stringField(result.result, "error") : undefined;
}

export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
