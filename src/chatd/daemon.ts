/**
 * The chat daemon of one replica: wires the event hub, the tool registry, prompt assembly, the
 * model resolution and the worker together. The server starts it after it listens and stops it
 * first on shutdown, so running chats are handed back while the database is still open.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatFiles, chats, userConfigs } from "../db/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { pubsubHints, type ChatHints } from "../chats/hints.js";
import type { ChatRow } from "../chats/store.js";
import { listModelConfigs } from "../llm/model-configs.js";
import type { EnvProviderKeys } from "../llm/providers.js";
import { describeError } from "../llm/retry.js";
import { ModelUnavailableError, resolveComputerUseModel, resolveModel, type ResolvedModel } from "../llm/resolve.js";
import { ChatEventHub } from "./events.js";
import type { ChatMetrics } from "../observability/chat-metrics.js";
import { runChatLoop, type HistoryMessage, type RunEnd } from "./loop/run.js";
import { assemblePrompt, type ResolvedFile } from "./prompt/assemble.js";
import { ToolRegistry, type ChatTool } from "./tools/registry.js";
import { ChatWorker, type RunFinishedListener, type WorkerSettings } from "./worker.js";
import { TitleGenerator } from "./titles.js";
import { isUuid } from "../util/parse.js";
import { ancestorChatIds } from "../chats/tree.js";
import type { WorkspaceContextSource } from "./prompt/workspace-context.js";
import { SUBAGENT_INSTRUCTION } from "./tools/subagents/index.js";
import type { McpPool } from "../mcp/pool.js";
import { mcpToolsForChat } from "../mcp/tools.js";

/** user_configs key of the owner's personal instructions (behavior.md section 1). */
export const CUSTOM_PROMPT_KEY = "chat_custom_prompt";

export interface ChatDaemonOptions {
  db: Database;
  pubsub: Pubsub;
  cipher: SecretCipher;
  envKeys: EnvProviderKeys;
  log: Logger;
  workerId: string;
  settings: WorkerSettings;
  tools?: readonly ChatTool[];
  /** Shared with the stream endpoints; the daemon makes its own when absent. */
  hub?: ChatEventHub;
  /** Base of the retry backoff (tests shorten it). */
  retryBaseDelayMs?: number;
  /** Reads the `<workspace-context>` block of a chat's workspace; no block without it. */
  workspaceContext?: WorkspaceContextSource;
  /** Told when a run ends (web push); drained on shutdown after the worker, like titles. */
  runNotifier?: { runFinished: RunFinishedListener; drain(): Promise<void> };
  /** The chat metrics the worker records (time to running, first output, terminal status, …). */
  metrics?: ChatMetrics;
  /** This replica's MCP connections; chats get no MCP tools without it. */
  mcp?: McpPool;
}

export class ChatDaemon {
  readonly hub: ChatEventHub;
  readonly hints: ChatHints;
  readonly tools: ToolRegistry;
  readonly worker: ChatWorker;
  readonly titles: TitleGenerator;

  constructor(private readonly options: ChatDaemonOptions) {
    this.hub = options.hub ?? new ChatEventHub();
    this.hints = pubsubHints(options.pubsub);
    this.tools = new ToolRegistry(options.tools ?? []);
    this.titles = new TitleGenerator({
      db: options.db,
      hints: this.hints,
      hub: this.hub,
      cipher: options.cipher,
      envKeys: options.envKeys,
      log: options.log.child({ component: "chat-titles" }),
      ...(options.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: options.retryBaseDelayMs }),
    });
    this.worker = new ChatWorker({
      db: options.db,
      pubsub: options.pubsub,
      hints: this.hints,
      hub: this.hub,
      log: options.log.child({ component: "chat-worker" }),
      workerId: options.workerId,
      settings: options.settings,
      runner: (chat, control) => this.#run(chat, control),
      onRunFinished: (run) => options.runNotifier?.runFinished(run),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  start(): Promise<void> {
    return this.worker.start();
  }

  /** Hands running chats back, then cancels titles in flight and waits for them and pushes to end. */
  async stop(): Promise<void> {
    await this.worker.stop();
    await Promise.all([this.titles.drain(), this.options.runNotifier?.drain()]);
  }

  async #run(chat: ChatRow, control: Parameters<typeof runChatLoop>[3]): Promise<RunEnd> {
    let resolved: ResolvedModel;
    try {
      resolved = await this.#resolveModel(chat);
    } catch (error) {
      if (error instanceof ModelUnavailableError) return { status: "error", error: error.message };
      throw error;
    }
    // Detached: a slow or failing title never delays or fails the run.
    this.titles.start(chat, resolved);
    const userInstructions = await this.#customPrompt(chat.ownerId);
    const ancestors = await ancestorChatIds(this.options.db, chat.parentChatId);
    return runChatLoop(
      {
        db: this.options.db,
        hints: this.hints,
        hub: this.hub,
        tools: this.tools,
        log: control.log ?? this.options.log,
        ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
        ...(this.options.mcp ? { dynamicTools: this.#mcpTools(this.options.mcp) } : {}),
        ...(this.options.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: this.options.retryBaseDelayMs }),
        prompt: {
          build: async (_chat, history) => {
            // Per step: create_workspace may attach a workspace in the middle of a run.
            const [files, workspaceContext] = await Promise.all([this.#files(chat.ownerId, history), this.#workspaceContext(chat.id, ancestors)]);
            return assemblePrompt(history, {
              provider: resolved.provider,
              omitOldScreenshots: chat.mode === "computer_use",
              extraSystem: {
                // A delegated chat works for its parent agent (behavior.md section 5, item 4).
                ...(chat.parentChatId ? { subagent: SUBAGENT_INSTRUCTION } : {}),
                ...(userInstructions ? { userInstructions } : {}),
                ...(workspaceContext ? { workspaceContext } : {}),
              },
              resolveFile: (id) => files.get(id),
            });
          },
        },
      },
      chat,
      resolved,
      control,
    );
  }

  /**
   * The chat's last model; if it was deleted, the default; none at all is an error. A computer-use
   * chat always runs on Anthropic's computer-use model (behavior.md section 5, item 6).
   */
  async #resolveModel(chat: ChatRow): Promise<ResolvedModel> {
    const { db, cipher, envKeys } = this.options;
    if (chat.mode === "computer_use") return resolveComputerUseModel(db, cipher, envKeys, chat.lastModelConfigId);
    try {
      return await resolveModel(db, cipher, envKeys, chat.lastModelConfigId);
    } catch (error) {
      if (!(error instanceof ModelUnavailableError) || !/does not exist or was deleted/.test(error.message)) throw error;
    }
    const fallback = (await listModelConfigs(db, true)).find((config) => config.isDefault);
    if (!fallback) throw new ModelUnavailableError("no default chat model config is available");
    return resolveModel(db, cipher, envKeys, fallback.id);
  }

  /** Per run: the chat's MCP servers' tools; a failure to even look them up skips MCP, loudly. */
  #mcpTools(pool: McpPool): (chat: ChatRow) => Promise<{ tools: ChatTool[]; notices: string[] }> {
    return async (chat) => {
      try {
        return await mcpToolsForChat(this.options.db, this.options.cipher, pool, chat);
      } catch (error) {
        this.options.log.warn({ chat_id: chat.id, error: describeError(error) }, "loading MCP tools failed");
        return { tools: [], notices: ["MCP tools are unavailable for this turn (their configuration could not be read)."] };
      }
    };
  }

  async #workspaceContext(chatId: string, ancestors: string[]): Promise<string | undefined> {
    const source = this.options.workspaceContext;
    if (!source) return undefined;
    const [row] = await this.options.db.select({ workspaceId: chats.workspaceId }).from(chats).where(eq(chats.id, chatId));
    return source.forChat(chatId, row?.workspaceId ?? null, ancestors);
  }

  async #customPrompt(ownerId: string): Promise<string | undefined> {
    const [row] = await this.options.db
      .select({ value: userConfigs.value })
      .from(userConfigs)
      .where(and(eq(userConfigs.userId, ownerId), eq(userConfigs.key, CUSTOM_PROMPT_KEY)));
    const value = row?.value.trim();
    return value ? value : undefined;
  }

  /** The owner's files that the history references, for image and file parts. */
  async #files(ownerId: string, history: readonly HistoryMessage[]): Promise<Map<string, ResolvedFile>> {
    const ids = [...new Set(history.flatMap((m) => m.parts.flatMap((p) => (p.type === "file" && p.file_id && isUuid(p.file_id) ? [p.file_id] : []))))];
    const files = new Map<string, ResolvedFile>();
    if (ids.length === 0) return files;
    try {
      const rows = await this.options.db
        .select()
        .from(chatFiles)
        .where(and(eq(chatFiles.ownerId, ownerId), inArray(chatFiles.id, ids)));
      for (const row of rows) files.set(row.id, { mediaType: row.mimetype, data: new Uint8Array(row.data) });
    } catch (error) {
      this.options.log.warn({ error: describeError(error) }, "loading chat files for the prompt failed");
    }
    return files;
  }
}
