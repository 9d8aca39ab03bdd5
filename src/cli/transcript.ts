/**
 * How `chatd chat` prints a chat: stored history and stream events in, a readable transcript
 * out. The conversation goes to `out` (text as it streams, reasoning dimmed, tool calls and
 * results summarized); status, retries and errors go to `err`.
 *
 * Everything the agent says reaches a viewer twice: once as streamed parts (the preview of the
 * step in progress, one "episode" per model call) and again as the stored messages of that step.
 * The transcript prints each thing once:
 * - tool calls and tool results are keyed by their call id, printed the first time either form
 *   shows them (a step's results stream before its messages are stored);
 * - an assistant message prints only the text and reasoning beyond what a preview of it already
 *   printed. It is matched against the recent previews, not only the current one, because the
 *   next step's preview can begin before the previous step's messages arrive;
 * - a preview that is dropped before its messages were stored (the step was retried, or the
 *   server restarted and runs it again) cannot be unprinted: after a retry or a reconnect, when
 *   new output (a new episode, or a stored message no preview showed) is printed while an older
 *   preview is still unstored, a marker line says the step's output starts over. Without a retry
 *   or a reconnect a new episode is just the next step.
 */
import type { ChatMessagePart } from "../sdk/schemas/parts.js";
import type { ChatMessage } from "../sdk/schemas/chats.js";
import type { StreamEvent } from "../sdk/schemas/streams.js";
import type { Codes } from "./colour.js";

/** Tool arguments and results are summarized to one line of about this many characters. */
const SUMMARY_CHARS = 120;

/** Said when a step's printed output is void and the step runs again. */
export const RESTART_MARKER = "[this step started over (the server retried or restarted it); its output follows again]";

export interface Output {
  write(text: string): void;
}

export interface TranscriptOptions {
  out: Output;
  err: Output;
  outCodes: Codes;
  errCodes: Codes;
}

function summarize(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  const line = text.replace(/\s+/g, " ");
  return line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS - 1)}…` : line;
}

/** What a user message says, on one line: its text, and what it attached. */
function userText(parts: readonly ChatMessagePart[]): string {
  return parts
    .map((part) => {
      if (part.type === "text") return part.text ?? "";
      if (part.type === "file") return `[file ${part.file_name ?? part.file_id ?? ""}]`.replace(" ]", "]");
      if (part.type === "file-reference") return `[${part.file_name ?? "file"}${part.start_line ? `:${part.start_line}${part.end_line ? `-${part.end_line}` : ""}` : ""}]`;
      return "";
    })
    .filter((text) => text !== "")
    .join(" ");
}

/** One episode's preview: what of it is on screen and not yet matched to a stored message. */
interface Preview {
  episode: string;
  text: string;
  reasoning: string;
  printed: boolean;
  /** A retry or a reconnect came after it was printed: it may never be stored. */
  doubtful: boolean;
}

/**
 * Previews kept for matching: a step's messages arrive within moments of the next preview, so a
 * few suffice; older unmatched ones were void.
 */
const MAX_PREVIEWS = 8;

export class Transcript {
  readonly #options: TranscriptOptions;
  #atLineStart = true;
  #dimmed = false;
  /** Call ids whose call (and, separately, whose result) is on screen already. */
  readonly #printedCalls = new Set<string>();
  readonly #printedResults = new Set<string>();
  /** Oldest first; the last is the episode in progress. */
  #previews: Preview[] = [];

  constructor(options: TranscriptOptions) {
    this.#options = options;
  }

  /** Writes conversation text, switching the dim style only when it changes (streamed deltas stay contiguous). */
  #out(text: string, dim = false): void {
    if (text === "") return;
    const codes = this.#options.outCodes;
    if (dim !== this.#dimmed) {
      this.#options.out.write(dim ? codes.dim : codes.reset);
      this.#dimmed = dim;
    }
    this.#options.out.write(text);
    this.#atLineStart = text.endsWith("\n");
  }

  #line(text: string, dim = false): void {
    if (!this.#atLineStart) this.#out("\n", this.#dimmed);
    this.#out(`${text}\n`, dim);
  }

  /** A status line on stderr. */
  note(text: string): void {
    const codes = this.#options.errCodes;
    this.#options.err.write(codes.dim === "" ? `${text}\n` : `${codes.dim}${text}${codes.reset}\n`);
  }

  /** Ends the conversation output at a line start, with the style reset. */
  end(): void {
    if (!this.#atLineStart) this.#out("\n", this.#dimmed);
    if (this.#dimmed) {
      this.#options.out.write(this.#options.outCodes.reset);
      this.#dimmed = false;
    }
  }

  /** The stream reconnected: a preview on screen may belong to a run that died with its server. */
  reconnected(): void {
    this.#doubtAll();
  }

  #doubtAll(): void {
    for (const preview of this.#previews) if (preview.printed) preview.doubtful = true;
  }

  #call(part: ChatMessagePart): void {
    const id = part.tool_call_id;
    if (id !== undefined && this.#printedCalls.has(id)) return;
    if (id !== undefined) this.#printedCalls.add(id);
    this.#line(`→ ${part.tool_name ?? "tool"}(${summarize(part.args ?? {})})`, true);
  }

  #result(part: ChatMessagePart): void {
    const id = part.tool_call_id;
    if (id !== undefined && this.#printedResults.has(id)) return;
    if (id !== undefined) this.#printedResults.add(id);
    this.#line(`← ${part.tool_name ?? "tool"}: ${part.is_error ? "error " : ""}${summarize(part.result)}`, true);
  }

  #enter(episode: string): Preview {
    const current = this.#previews.at(-1);
    if (current?.episode === episode) return current;
    const preview: Preview = { episode, text: "", reasoning: "", printed: false, doubtful: false };
    this.#previews = [...this.#previews.filter((p) => p.printed), preview].slice(-MAX_PREVIEWS);
    return preview;
  }

  /** Called before an episode prints its first thing. */
  #beginPrinting(preview: Preview): void {
    if (preview.printed) return;
    preview.printed = true;
    this.#announceVoid(preview);
  }

  /**
   * New output of the agent is about to be printed: if an older preview on screen is doubtful (a
   * retry or a reconnect came after it) and still unstored, it was void, and the line says so.
   */
  #announceVoid(except?: Preview): void {
    const void_ = this.#previews.filter((p) => p !== except && p.doubtful);
    if (void_.length === 0) return;
    this.#line(RESTART_MARKER, true);
    // Said once; they stay for matching, in case their messages arrive after all.
    for (const p of void_) p.doubtful = false;
  }

  #part(part: ChatMessagePart, episode: string): void {
    const preview = this.#enter(episode);
    if (part.type === "text" && part.text) {
      this.#beginPrinting(preview);
      this.#out(part.text);
      preview.text += part.text;
    } else if (part.type === "reasoning" && part.text) {
      this.#beginPrinting(preview);
      this.#out(part.text, true);
      preview.reasoning += part.text;
    } else if (part.type === "tool-call" && part.args !== undefined && part.args_delta === undefined) {
      // Argument deltas are not worth printing; the complete call arrives as its own part.
      if (part.tool_call_id !== undefined && this.#printedCalls.has(part.tool_call_id)) return;
      this.#beginPrinting(preview);
      this.#call(part);
    } else if (part.type === "tool-result") {
      if (part.tool_call_id !== undefined && this.#printedResults.has(part.tool_call_id)) return;
      this.#beginPrinting(preview);
      this.#result(part);
    }
  }

  /** A stored message, from the history or the stream. */
  message(message: ChatMessage): void {
    switch (message.role) {
      case "system":
        return;
      case "user":
        this.#line(`> ${userText(message.content)}`);
        return;
      case "tool":
        for (const part of message.content) if (part.type === "tool-result") this.#result(part);
        return;
      case "assistant":
        this.#assistant(message.content);
        return;
    }
  }

  /** The printed preview this stored message is the durable form of: the longest whose output it starts with. */
  #previewOf(text: string, reasoning: string): Preview | undefined {
    let best: Preview | undefined;
    for (const preview of this.#previews) {
      if (!preview.printed || !text.startsWith(preview.text) || !reasoning.startsWith(preview.reasoning)) continue;
      if (!best || preview.text.length + preview.reasoning.length > best.text.length + best.reasoning.length) best = preview;
    }
    return best;
  }

  #assistant(parts: readonly ChatMessagePart[]): void {
    const join = (type: "text" | "reasoning") => parts.map((part) => (part.type === type ? (part.text ?? "") : "")).join("");
    const preview = this.#previewOf(join("text"), join("reasoning"));
    // A step the server ran again while we were away arrives whole, with no preview of its own.
    if (!preview) this.#announceVoid();
    let skipText = preview?.text.length ?? 0;
    let skipReasoning = preview?.reasoning.length ?? 0;
    for (const part of parts) {
      if (part.type === "text" || part.type === "reasoning") {
        const text = part.text ?? "";
        const shown = Math.min(part.type === "text" ? skipText : skipReasoning, text.length);
        if (part.type === "text") skipText -= shown;
        else skipReasoning -= shown;
        this.#out(text.slice(shown), part.type === "reasoning");
      } else if (part.type === "tool-call") {
        this.#call(part);
      } else if (part.type === "tool-result") {
        this.#result(part);
      }
    }
    if (preview) {
      // Stored now; the previews before it were stored or void. The one in progress stays.
      const at = this.#previews.indexOf(preview);
      const current = this.#previews.at(-1);
      this.#previews = this.#previews.slice(at + 1);
      if (current === preview) this.#previews = [{ episode: preview.episode, text: "", reasoning: "", printed: false, doubtful: false }];
    }
  }

  /** One stream event (status lines are the caller's: it decides when the follow ends). */
  event(event: StreamEvent): void {
    switch (event.type) {
      case "message_part":
        this.#part(event.message_part.part, event.message_part.episode);
        break;
      case "preview_reset":
        this.#enter(event.preview_reset.episode);
        break;
      case "message":
        this.message(event.message);
        break;
      case "retry":
        // The failed attempt's output is void: the next attempt prints it again.
        this.#doubtAll();
        this.#line(`[retry ${event.retry.attempt} in ${Math.round(event.retry.delay_ms / 1000)}s: ${event.retry.error}]`, true);
        break;
      case "error":
        this.end();
        this.note(`error: ${event.error.message}`);
        break;
      default:
        break;
    }
  }
}

/** Whether a stored message is the durable form of a preview (its output starts with what the preview showed). */
function isStoredFormOf(event: StreamEvent, preview: readonly StreamEvent[]): boolean {
  if (event.type !== "message" || event.message.role !== "assistant") return false;
  const previewParts = preview.flatMap((e) => (e.type === "message_part" ? [e.message_part.part] : []));
  const join = (parts: readonly ChatMessagePart[], type: "text" | "reasoning") => parts.map((part) => (part.type === type ? (part.text ?? "") : "")).join("");
  const content = event.message.content;
  const text = join(previewParts, "text");
  const reasoning = join(previewParts, "reasoning");
  if (text !== "" || reasoning !== "") return join(content, "text").startsWith(text) && join(content, "reasoning").startsWith(reasoning);
  const calls = new Set(previewParts.flatMap((part) => (part.type === "tool-call" && part.tool_call_id !== undefined ? [part.tool_call_id] : [])));
  return content.some((part) => part.type === "tool-call" && part.tool_call_id !== undefined && calls.has(part.tool_call_id));
}

/**
 * The events of a stream snapshot in the order they happened. A snapshot (the first frame of a
 * connection) lists the status, then the preview of the step in progress, then the messages
 * stored after the client's cursor, although those were stored before that step began; printed
 * as sent, an earlier step would appear below the one after it. Those messages are moved ahead of
 * the preview, except the preview's own stored form (stored while the snapshot was read), which
 * stays after it. Events after the snapshot's messages keep their order.
 */
export function snapshotOrder(events: readonly StreamEvent[]): StreamEvent[] {
  const [status, ...rest] = events;
  if (status?.type !== "status") return [...events];
  let previewEnd = 0;
  while (previewEnd < rest.length && (rest[previewEnd]?.type === "message_part" || rest[previewEnd]?.type === "preview_reset")) previewEnd++;
  let messagesEnd = previewEnd;
  while (messagesEnd < rest.length && rest[messagesEnd]?.type === "message") messagesEnd++;
  const preview = rest.slice(0, previewEnd);
  const messages = rest.slice(previewEnd, messagesEnd);
  if (preview.length === 0 || messages.length === 0) return [...events];
  const own = messages.findIndex((event) => isStoredFormOf(event, preview));
  const older = own === -1 ? messages : messages.slice(0, own);
  const ownAndLater = own === -1 ? [] : messages.slice(own);
  return [status, ...older, ...preview, ...ownAndLater, ...rest.slice(messagesEnd)];
}
