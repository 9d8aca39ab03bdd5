/**
 * Generated chat titles (behavior.md section 5, "Title generation"): asynchronous, detached from
 * the run (a slow or failing title never delays or fails the chat), tried on cheap models first
 * and then on the chat's own model, cleaned, and published as `title_change`. The daemon waits for
 * titles in flight on shutdown.
 */
import { setMaxListeners } from "node:events";
import { generateText } from "ai";
import type { Database } from "../db/client.js";
import type { Logger } from "../observability/logger.js";
import type { SecretCipher } from "../secrets/cipher.js";
import type { ChatHints } from "../chats/hints.js";
import { fallbackTitle } from "../chats/input.js";
import { setGeneratedTitle } from "../chats/state.js";
import type { ChatRow } from "../chats/store.js";
import { createLanguageModel } from "../llm/factory.js";
import { credentialsFor, listProviderRows, type EnvProviderKeys } from "../llm/providers.js";
import { describeError, withRetry } from "../llm/retry.js";
import type { ResolvedModel } from "../llm/resolve.js";
import type { ChatEventHub } from "./events.js";
import { loadHistory } from "./loop/history.js";
import {
  cleanTitle,
  shouldGenerateTitle,
  titleCandidates,
  titlePrompt,
  titleSourceText,
  TITLE_MAX_OUTPUT_TOKENS,
  TITLE_TIMEOUT_MS,
} from "./prompt/title.js";
import type { ProviderName } from "../sdk/schemas/llm.js";

/** Titles are a nicety: a couple of quick retries, not the chat's 25. */
const TITLE_MAX_ATTEMPTS = 3;

export class TitleGenerator {
  readonly #inFlight = new Set<Promise<void>>();
  /** Aborted on shutdown: a title is not worth holding a stopping replica for. */
  readonly #stop = new AbortController();

  constructor(
    private readonly deps: {
      db: Database;
      hints: ChatHints;
      hub: ChatEventHub;
      cipher: SecretCipher;
      envKeys: EnvProviderKeys;
      log: Logger;
      retryBaseDelayMs?: number;
    },
  ) {
    // One listener per title in flight: many at once is normal, not a leak.
    setMaxListeners(0, this.#stop.signal);
  }

  /** Starts title generation for `chat` if it still has its fallback title; never throws. */
  start(chat: ChatRow, own: ResolvedModel): void {
    if (this.#stop.signal.aborted) return;
    const task = this.#generate(chat, own).catch((error: unknown) =>
      this.deps.log.warn({ chat_id: chat.id, error: describeError(error) }, "title generation failed"),
    );
    this.#inFlight.add(task);
    void task.finally(() => this.#inFlight.delete(task));
  }

  /** Cancels titles in flight and resolves once each has finished (shutdown). */
  async drain(): Promise<void> {
    this.#stop.abort();
    await Promise.all([...this.#inFlight]);
  }

  async #generate(chat: ChatRow, own: ResolvedModel): Promise<void> {
    const { deps } = this;
    const history = await loadHistory(deps.db, chat.id);
    if (!shouldGenerateTitle(history, chat.title, fallbackTitle)) return;
    const text = titleSourceText(history);
    if (text === undefined) return;
    const rows = await listProviderRows(deps.db);
    const configured = (provider: ProviderName) => credentialsFor(provider, rows.get(provider), deps.envKeys, deps.cipher) !== undefined;
    for (const [provider, model] of titleCandidates([own.provider, own.config.model], configured)) {
      const credentials = credentialsFor(provider, rows.get(provider), deps.envKeys, deps.cipher);
      if (!credentials) continue;
      try {
        const raw = await withRetry(
          async () => {
            const result = await generateText({
              model: createLanguageModel(credentials, model),
              messages: titlePrompt(text),
              allowSystemInMessages: true,
              maxOutputTokens: TITLE_MAX_OUTPUT_TOKENS,
              maxRetries: 0,
              abortSignal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(TITLE_TIMEOUT_MS)]),
            });
            return result.text;
          },
          { maxAttempts: TITLE_MAX_ATTEMPTS, signal: this.#stop.signal, ...(deps.retryBaseDelayMs === undefined ? {} : { baseDelayMs: deps.retryBaseDelayMs }) },
        );
        const title = cleanTitle(raw);
        if (title === "") continue;
        const renamed = await setGeneratedTitle(deps.db, deps.hints, { chatId: chat.id, expected: chat.title, title });
        if (renamed) deps.hub.publishOwner({ kind: "title_change", chat_id: chat.id, owner_id: chat.ownerId });
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        deps.log.debug({ chat_id: chat.id, provider, model, error: describeError(error) }, "title candidate failed; trying the next");
      }
    }
  }
}
