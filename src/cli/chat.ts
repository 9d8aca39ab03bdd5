/**
 * `chatd chat "<prompt>" [--model NAME] [--workspace ID]` creates a chat and prints it live;
 * `chatd chat --follow <chat-id>` attaches to one. The conversation goes to stdout (transcript.ts
 * says how), status lines and the cost to stderr. Exits 0 when the agent finishes, 1 when it ends
 * in error, 130 when the user interrupted it.
 *
 * The history is read over HTTP and printed first; the stream then resumes after its last
 * message, each connection's snapshot put in order (snapshotOrder: as sent, the step in progress
 * comes before the messages stored just before it). The SDK's
 * follower reconnects (a server restart) from its cursor, so nothing is printed twice except a
 * step the server runs again, which the transcript marks.
 *
 * Ctrl-C once asks the server to interrupt the chat (the agent stops, what it wrote is kept) and
 * waits for it to stop; a second Ctrl-C exits at once.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { ChatdError, type ChatdClient } from "../sdk/client.js";
import type { ChatMessage } from "../sdk/schemas/chats.js";
import { followChat, type StreamEvent } from "../sdk/stream.js";
import { StartupError } from "../util/startup-error.js";
import { codesFor, type Codes } from "./colour.js";
import { cliClient, describeApiError, resolveConnection, runClientCommand } from "./connection.js";
import { resolveModel } from "./models.js";
import { snapshotOrder, Transcript } from "./transcript.js";
import { UsageError } from "./usage.js";

/** 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
/** The largest page the messages route serves: the fewest requests for a long history. */
const MESSAGES_PAGE_SIZE = 200;

const USAGE = 'usage: chatd chat "<prompt>" [--model NAME] [--workspace ID] | chatd chat --follow <chat-id> (see chatd chat --help)';

const chatFlags = z.object({
  url: z.string().optional(),
  token: z.string().optional(),
  model: z.string().trim().min(1, "--model needs a model name or id").optional(),
  workspace: z.string().trim().min(1, "--workspace needs a workspace id").optional(),
  follow: z.string().trim().min(1, "--follow needs a chat id").optional(),
  prompt: z.string(),
});

function readArgs(args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { url: { type: "string" }, token: { type: "string" }, model: { type: "string" }, workspace: { type: "string" }, follow: { type: "string" } },
      strict: true,
      allowPositionals: true,
    });
    const parsed = chatFlags.safeParse({ ...values, prompt: positionals.join(" ").trim() });
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "));
    return parsed.data;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; ${USAGE}`);
  }
}

export async function runChat(args: string[]): Promise<number> {
  const flags = readArgs(args);
  if (flags.follow === undefined && flags.prompt === "") throw new UsageError(USAGE);
  if (flags.follow !== undefined && (flags.prompt !== "" || flags.model !== undefined || flags.workspace !== undefined)) {
    throw new UsageError(`--follow attaches to a chat as it is: it takes no prompt, --model or --workspace; ${USAGE}`);
  }
  const connection = resolveConnection(flags);
  const client = cliClient(connection);
  return runClientCommand(async () => {
    let chatId = flags.follow;
    if (chatId === undefined) {
      const model = flags.model === undefined ? undefined : resolveModel(flags.model, await client.modelConfigs());
      const chat = await client.createChat({
        content: [{ type: "text", text: flags.prompt }],
        ...(model ? { model_config_id: model } : {}),
        ...(flags.workspace ? { workspace_id: flags.workspace } : {}),
      });
      chatId = chat.id;
    }
    return printChat(client, chatId, { out: codesFor(process.stdout), err: codesFor(process.stderr) });
  }, () => connection.url);
}

/** The whole visible history, oldest first. */
async function history(client: ChatdClient, chatId: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  for (let beforeId: number | undefined = undefined; ; ) {
    const page = await client.messages(chatId, { limit: MESSAGES_PAGE_SIZE, ...(beforeId === undefined ? {} : { beforeId }) });
    pages.push(page.messages);
    const last = page.messages.at(-1);
    if (!page.has_more || !last) break;
    beforeId = last.id;
  }
  return pages.flat().reverse();
}

function describe(error: unknown): string {
  if (error instanceof ChatdError) return describeApiError(error);
  if (error instanceof StartupError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Ctrl-C: the first press interrupts the chat through the API, the second exits. A chat still
 * pending cannot be interrupted (the server leaves it to run), and a server that is down cannot
 * be asked: either way the interrupt is sent again once the chat is seen running.
 */
function interruptOnCtrlC(client: ChatdClient, chatId: string, transcript: Transcript) {
  let presses = 0;
  let again = false;
  const request = () => {
    client.interrupt(chatId).then(
      (chat) => {
        if (chat.status !== "pending") return;
        again = true;
        transcript.note("the chat has not started yet; it is interrupted as soon as it does");
      },
      (error: unknown) => {
        // A refusal (no right to stop this chat) stays one; only an unreachable server is retried.
        again = !(error instanceof ChatdError);
        const retry = again ? "; trying again when the server is back" : "";
        process.stderr.write(`chatd: could not interrupt the chat (${describe(error)})${retry}; press Ctrl-C again to exit\n`);
      },
    );
  };
  const onSigint = () => {
    presses += 1;
    if (presses > 1) {
      transcript.end();
      process.stderr.write(`chatd: exiting; the chat may still be running (chatd chat --follow ${chatId})\n`);
      // Not a return: a request to an unresponsive server must not hold the exit.
      process.exit(EXIT_INTERRUPTED);
    }
    process.stderr.write("chatd: interrupting the chat; press Ctrl-C again to exit\n");
    request();
  };
  process.on("SIGINT", onSigint);
  return {
    get interrupted() {
      return presses > 0;
    },
    /** The chat started running: a deferred interrupt goes out now. */
    running() {
      if (!again) return;
      again = false;
      request();
    },
    dispose: () => process.off("SIGINT", onSigint),
  };
}

async function printChat(client: ChatdClient, chatId: string, codes: { out: Codes; err: Codes }): Promise<number> {
  const transcript = new Transcript({ out: process.stdout, err: process.stderr, outCodes: codes.out, errCodes: codes.err });
  const stored = await history(client, chatId);
  transcript.note(`chat ${chatId} · ${client.baseUrl}/agents/${chatId}`);
  for (const message of stored) transcript.message(message);

  const stop = new AbortController();
  const ctrlC = interruptOnCtrlC(client, chatId, transcript);
  let sawRunning = false;
  let firstStatus = true;
  let final: "waiting" | "error" | undefined;
  const handle = (event: StreamEvent) => {
    if (event.type !== "status") {
      transcript.event(event);
      return;
    }
    const status = event.status.status;
    const idle = status === "waiting" || status === "error";
    if (firstStatus && idle) {
      // Already idle when we attached: print the rest of the snapshot (this frame) and stop.
      final = status;
      setImmediate(() => stop.abort());
    }
    firstStatus = false;
    if (status === "running" || status === "pending") sawRunning = true;
    if (status === "running") ctrlC.running();
    transcript.end();
    transcript.note(`[${status}]`);
    if (sawRunning && idle) {
      final = status;
      stop.abort();
    }
  };
  // A connection's first event is its snapshot's status; the rest of the snapshot arrives in the
  // same frame, so it is collected until the frame is done (a microtask) and put in order.
  let awaitingSnapshot = true;
  let snapshot: StreamEvent[] | undefined;
  const onEvent = (event: StreamEvent) => {
    if (snapshot) {
      snapshot.push(event);
      return;
    }
    if (!awaitingSnapshot || event.type !== "status") {
      handle(event);
      return;
    }
    awaitingSnapshot = false;
    const collected: StreamEvent[] = [event];
    snapshot = collected;
    queueMicrotask(() => {
      snapshot = undefined;
      for (const next of snapshotOrder(collected)) handle(next);
    });
  };
  try {
    try {
      await followChat(client, chatId, {
        signal: stop.signal,
        afterId: stored.at(-1)?.id ?? 0,
        onEvent,
        onReconnect: (delay, reason) => {
          awaitingSnapshot = true;
          transcript.reconnected();
          transcript.end();
          transcript.note(`[reconnecting in ${delay} ms: ${reason}]`);
        },
      });
    } finally {
      transcript.end();
    }
    const chat = await client.getChat(chatId);
    transcript.note(`[${chat.status}] cost: ${await costOf(client, chatId)}`);
    if (final === "error" || chat.status === "error") {
      process.stderr.write(`error: ${chat.last_error ?? "the agent failed"}\n`);
      return 1;
    }
    if (ctrlC.interrupted) {
      process.stderr.write("chatd: the chat was interrupted\n");
      return EXIT_INTERRUPTED;
    }
    return 0;
  } finally {
    ctrlC.dispose();
  }
}

/** What the chat cost so far, summed over its priced messages ("unpriced" without any). */
async function costOf(client: ChatdClient, chatId: string): Promise<string> {
  let micros = 0;
  let priced = false;
  for (const message of await history(client, chatId)) {
    if (message.total_cost_micros === undefined) continue;
    micros += message.total_cost_micros;
    priced = true;
  }
  return priced ? `$${(micros / 1_000_000).toFixed(6)}` : "unpriced";
}
