/**
 * `chatd chat "<prompt>" [--model ID] [--workspace ID]` creates a chat and prints it live;
 * `chatd chat --follow <chat-id>` attaches to one. Text goes to stdout as it streams, reasoning
 * dimmed, tool calls and results summarized; status lines and the cost go to stderr, so stdout
 * holds just the conversation. Exits 0 when the agent finishes, 1 when it ends in error.
 *
 * The server comes from --url or CHATD_URL; the API token from CHATD_TOKEN (or --token, which
 * leaves it in shell history).
 */
import { z } from "zod";
import { ChatdClient, ChatdError } from "../sdk/client.js";
import { followChat, type StreamEvent } from "../sdk/stream.js";
import { parseFlags, UsageError } from "./usage.js";
import type { ChatMessagePart } from "../sdk/schemas/parts.js";

const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
/** Tool arguments and results are summarized to one line of about this many characters. */
const SUMMARY_CHARS = 120;

const chatFlags = z.object({
  url: z.url({ message: "--url must be an http(s) URL" }).default("http://127.0.0.1:3000"),
  token: z.string().min(1, "set CHATD_TOKEN (an API token: POST /api/v2/users/me/keys) or pass --token"),
  model: z.string().optional(),
  workspace: z.string().optional(),
  follow: z.string().optional(),
});

function summarize(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  const line = text.replace(/\s+/g, " ");
  return line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS - 1)}…` : line;
}

export async function runChat(args: string[]): Promise<number> {
  const positional = args.filter((arg, i) => !arg.startsWith("--") && !(i > 0 && args[i - 1]?.startsWith("--")));
  const flagArgs = args.filter((arg) => !positional.includes(arg));
  const flags = parseFlags(flagArgs, ["url", "token", "model", "workspace", "follow"]);
  const parsed = chatFlags.safeParse({
    url: flags.url ?? process.env.CHATD_URL,
    token: flags.token ?? process.env.CHATD_TOKEN ?? "",
    model: flags.model,
    workspace: flags.workspace,
    follow: flags.follow,
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "));
  const options = parsed.data;
  const prompt = positional.join(" ").trim();
  if (!options.follow && prompt === "") throw new UsageError('usage: chatd chat "<prompt>" [--model ID] [--workspace ID] | chatd chat --follow <chat-id>');

  const client = new ChatdClient({ baseUrl: options.url, token: options.token });
  try {
    const chatId =
      options.follow ??
      (
        await client.createChat({
          content: [{ type: "text", text: prompt }],
          ...(options.model ? { model_config_id: options.model } : {}),
          ...(options.workspace ? { workspace_id: options.workspace } : {}),
        })
      ).id;
    process.stderr.write(`${DIM}chat ${chatId} · ${options.url}/agents/${chatId}${RESET}\n`);
    return await printChat(client, chatId);
  } catch (error) {
    if (error instanceof ChatdError) {
      process.stderr.write(`chatd: ${error.message}${error.detail ? ` (${error.detail})` : ""}\n`);
      return 1;
    }
    throw error;
  }
}

async function printChat(client: ChatdClient, chatId: string): Promise<number> {
  const stop = new AbortController();
  let sawRunning = false;
  let final: "waiting" | "error" | undefined;
  let streamedSinceMessage = false;
  let atLineStart = true;
  let dimmed = false;
  /** Writes text, switching the dim style only when it changes (so streamed deltas stay contiguous). */
  const out = (text: string, dim = false) => {
    if (text === "") return;
    if (dim !== dimmed) {
      process.stdout.write(dim ? DIM : RESET);
      dimmed = dim;
    }
    process.stdout.write(text);
    atLineStart = text.endsWith("\n");
  };
  const line = (text: string, dim = false) => out(`${atLineStart ? "" : "\n"}${text}\n`, dim);

  const printPart = (role: "assistant" | "tool", part: ChatMessagePart, live: boolean) => {
    if (part.type === "text" && part.text) out(part.text);
    else if (part.type === "reasoning" && part.text) out(part.text, true);
    else if (part.type === "tool-call" && part.args !== undefined && part.args_delta === undefined) line(`→ ${part.tool_name ?? "tool"}(${summarize(part.args)})`, true);
    else if (part.type === "tool-result" && (role === "tool" || !live || part.provider_executed)) {
      line(`← ${part.tool_name ?? "tool"}: ${part.is_error ? "error " : ""}${summarize(part.result)}`, true);
    }
  };

  let firstStatus = true;
  const onEvent = (event: StreamEvent) => {
    switch (event.type) {
      case "status":
        if (firstStatus && (event.status.status === "waiting" || event.status.status === "error")) {
          // Already idle when we attached: print the snapshot (its frame is being read now) and stop.
          final = event.status.status;
          setImmediate(() => stop.abort());
        }
        firstStatus = false;
        if (event.status.status === "running" || event.status.status === "pending") sawRunning = true;
        process.stderr.write(`${DIM}[${event.status.status}]${RESET}\n`);
        if (sawRunning && (event.status.status === "waiting" || event.status.status === "error")) {
          final = event.status.status;
          stop.abort();
        }
        break;
      case "message_part":
        streamedSinceMessage = true;
        printPart(event.message_part.role, event.message_part.part, true);
        break;
      case "message":
        if (event.message.role === "user") line(`> ${event.message.content.map((p) => p.text ?? "").join(" ")}`);
        // Joined after the parts streamed: the stored message is the only copy we get.
        else if (!streamedSinceMessage && event.message.role !== "system") for (const part of event.message.content) printPart(event.message.role, part, false);
        if (event.message.role === "assistant") streamedSinceMessage = false;
        break;
      case "retry":
        line(`[retry ${event.retry.attempt} in ${Math.round(event.retry.delay_ms / 1000)}s: ${event.retry.error}]`, true);
        break;
      case "error":
        line(`error: ${event.error.message}`);
        break;
      default:
        break;
    }
  };

  await followChat(client, chatId, {
    signal: stop.signal,
    onEvent,
    onReconnect: (delay, reason) => process.stderr.write(`${DIM}[reconnecting in ${delay} ms: ${reason}]${RESET}\n`),
  });
  if (!atLineStart) out("\n");
  if (dimmed) process.stdout.write(RESET);
  const chat = await client.getChat(chatId);
  let cost = 0;
  let priced = false;
  for (let beforeId: number | undefined = undefined; ; ) {
    const page = await client.messages(chatId, { limit: 200, ...(beforeId === undefined ? {} : { beforeId }) });
    for (const message of page.messages) {
      if (message.total_cost_micros !== undefined) {
        cost += message.total_cost_micros;
        priced = true;
      }
    }
    const last = page.messages.at(-1);
    if (!page.has_more || !last) break;
    beforeId = last.id;
  }
  process.stderr.write(`${DIM}[${chat.status}] cost: ${priced ? `$${(cost / 1_000_000).toFixed(6)}` : "unpriced"}${RESET}\n`);
  if (final === "error" || chat.status === "error") {
    process.stderr.write(`error: ${chat.last_error ?? "the agent failed"}\n`);
    return 1;
  }
  return 0;
}
