/**
 * The context window of one step, read from the provider metadata of its response (behavior.md
 * section 5, item 7): the LARGEST positive integer found under any context-limit-like key,
 * anywhere in the metadata; otherwise the model config's `context_limit`.
 *
 * Invariants:
 * - Keys are compared normalized (lower-case, ASCII letters and digits only), so
 *   `context_window`, `contextWindow` and `Context-Window` are the same key.
 * - Only positive safe integers count (numbers or trimmed integer strings); fractions, zero,
 *   negatives, booleans and anything else are ignored, as upstream does.
 * - The walk is bounded in depth and visits each object once, so a cyclic or very deep
 *   metadata object cannot hang or overflow the stack.
 */

/**
 * Exact keys (normalized) that name a context limit. Upstream's list plus `maxcontextlength`.
 */
const CONTEXT_LIMIT_KEYS: ReadonlySet<string> = new Set([
  "contextlimit",
  "contextwindow",
  "contextlength",
  "maxcontext",
  "maxcontexttokens",
  "maxcontextlength",
  "maxinputtokens",
  "maxinputtoken",
  "inputtokenlimit",
]);

/**
 * Provider metadata is a few levels deep (provider → usage → …). 16 levels is far more than any
 * real payload and keeps recursion shallow on hostile input.
 */
const MAX_DEPTH = 16;

/** Lower-cases and drops everything but ASCII letters and digits: "Max_Context-Tokens" → "maxcontexttokens". */
export function normalizeMetadataKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Splits a key into lower-case words at non-letters and camelCase humps: "modelContext_limit" → model, context, limit. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((word) => word.length > 0);
}

/**
 * Whether a key names a context limit: one of the exact keys, or (upstream's word heuristic) a
 * key with the word "context" plus "limit"; "window" with "size" or "max"; "length" with "max";
 * or "token(s)" with "max" or "limit". So `model_context_limit` and `context_window_size` count,
 * while `context_id`, `max_context_version` and `rate_limit` do not.
 */
export function isContextLimitKey(key: string): boolean {
  const normalized = normalizeMetadataKey(key);
  if (normalized === "") return false;
  if (CONTEXT_LIMIT_KEYS.has(normalized)) return true;

  const words = new Set(keyWords(key));
  if (!words.has("context")) return false;
  if (words.has("limit")) return true;
  if (words.has("window")) return words.has("size") || words.has("max");
  if (words.has("length")) return words.has("max");
  return (words.has("token") || words.has("tokens")) && (words.has("max") || words.has("limit"));
}

/** A positive safe integer from a number or an integer string, else null. */
function positiveInteger(value: unknown): number | null {
  let candidate: number;
  if (typeof value === "number") {
    candidate = value;
  } else if (typeof value === "string") {
    const trimmed = value.trim();
    if (!/^\d+$/.test(trimmed)) return null;
    candidate = Number(trimmed);
  } else {
    return null;
  }
  return Number.isSafeInteger(candidate) && candidate > 0 ? candidate : null;
}

/** The largest context limit anywhere in `value`, or null when there is none. */
export function findContextLimit(value: unknown): number | null {
  let best: number | null = null;
  const visited = new Set<object>();

  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== "object" || node === null || depth > MAX_DEPTH || visited.has(node)) return;
    visited.add(node);
    if (Array.isArray(node)) {
      for (const child of node) walk(child, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (isContextLimitKey(key)) {
        const limit = positiveInteger(child);
        if (limit !== null && (best === null || limit > best)) best = limit;
      }
      walk(child, depth + 1);
    }
  };

  walk(value, 0);
  return best;
}

/**
 * The context limit to record for a step: the largest one in the provider metadata, else
 * `fallback` (the model config's `context_limit`) when it is a positive integer, else null.
 */
export function contextLimitFromMetadata(metadata: unknown, fallback: number | null): number | null {
  return findContextLimit(metadata) ?? positiveInteger(fallback);
}
