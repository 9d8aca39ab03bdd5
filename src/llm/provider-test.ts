/**
 * "Test connection" for a provider: one cheap call (a few output tokens, no retry) that shows an
 * admin, at configuration time, the error a chat would otherwise hit later: a wrong key, a base
 * URL that refuses connections, a model the account cannot use. The error text goes through
 * `describeError`, so no key or header reaches the response.
 */
import { generateText } from "ai";
import { createLanguageModel } from "./factory.js";
import type { ProviderCredentials } from "./providers.js";
import { describeError } from "./retry.js";

/** A short answer from a healthy provider takes a second or two; 20 s means chats would suffer too. */
export const PROVIDER_TEST_TIMEOUT_MS = 20_000;
/** Enough for "OK" on every provider (some refuse a limit below 16), so the call costs next to nothing. */
export const PROVIDER_TEST_MAX_OUTPUT_TOKENS = 16;

export interface ProviderTestResult {
  ok: boolean;
  model: string;
  latency_ms: number;
  /** Why the call failed, for display; absent when it worked. */
  error?: string;
}

export async function testProviderConnection(
  credentials: ProviderCredentials,
  model: string,
  options: { timeoutMs?: number } = {},
): Promise<ProviderTestResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    await generateText({
      model: createLanguageModel(credentials, model),
      prompt: "Reply with the single word OK.",
      maxOutputTokens: PROVIDER_TEST_MAX_OUTPUT_TOKENS,
      maxRetries: 0,
      abortSignal: AbortSignal.timeout(options.timeoutMs ?? PROVIDER_TEST_TIMEOUT_MS),
    });
    return { ok: true, model, latency_ms: elapsed() };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    const reason = timedOut ? `no answer within ${Math.round((options.timeoutMs ?? PROVIDER_TEST_TIMEOUT_MS) / 1000)} s` : describeError(error);
    return { ok: false, model, latency_ms: elapsed(), error: reason };
  }
}
