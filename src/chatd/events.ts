/**
 * The events of a chat as its viewers see them (behavior.md section 4), and the in-process hub
 * that carries them on this replica.
 *
 * Two paths, on purpose: every durable change (new messages, status, queue, title, archive) is
 * announced by the state module as a pubsub hint, which reaches every replica (this one too);
 * the hub carries what only the running replica knows: `message_part` deltas (kept in a bounded
 * buffer so a viewer connecting mid-step catches up), `retry` and `error`, plus the run's own
 * `message`/`status` events for viewers on this replica. Parts leave the replica only through
 * the relay (the streaming issue).
 */
import type { ChatMessagePart } from "../chats/parts.js";
import type { ChatStatus } from "../chats/hints.js";

export type ChatStreamEvent =
  | { type: "message"; chat_id: string; message_id: number }
  | { type: "message_part"; chat_id: string; message_part: { role: "assistant" | "tool"; part: ChatMessagePart } }
  | { type: "status"; chat_id: string; status: ChatStatus }
  | { type: "queue_update"; chat_id: string }
  | { type: "retry"; chat_id: string; retry: { attempt: number; delay_ms: number; error: string; retrying_at: string } }
  | { type: "error"; chat_id: string; error: { message: string } };

export type OwnerEvent = { kind: "created" | "status_change" | "title_change" | "deleted"; chat_id: string; owner_id: string };

/**
 * At most this many part events are kept for a running chat (behavior.md: 10 000, oldest
 * dropped): a step with a very long answer must not grow memory without bound.
 */
export const PART_BUFFER_CAP = 10_000;

type Listener<T> = (event: T) => void;

export class ChatEventHub {
  readonly #chatListeners = new Map<string, Set<Listener<ChatStreamEvent>>>();
  readonly #ownerListeners = new Map<string, Set<Listener<OwnerEvent>>>();
  readonly #parts = new Map<string, ChatStreamEvent[]>();
  /** Part events dropped because a buffer was full (exported as a metric later). */
  droppedParts = 0;

  subscribeChat(chatId: string, listener: Listener<ChatStreamEvent>): () => void {
    return subscribe(this.#chatListeners, chatId, listener);
  }

  subscribeOwner(ownerId: string, listener: Listener<OwnerEvent>): () => void {
    return subscribe(this.#ownerListeners, ownerId, listener);
  }

  publish(event: ChatStreamEvent): void {
    if (event.type === "message_part") {
      const buffer = this.#parts.get(event.chat_id);
      if (buffer) {
        if (buffer.length >= PART_BUFFER_CAP) {
          buffer.shift();
          this.droppedParts++;
        }
        buffer.push(event);
      }
    }
    emit(this.#chatListeners, event.chat_id, event);
  }

  publishOwner(event: OwnerEvent): void {
    emit(this.#ownerListeners, event.owner_id, event);
  }

  /** Buffering starts before the chat is announced as running, so no early part is missed. */
  startBuffering(chatId: string): void {
    if (!this.#parts.has(chatId)) this.#parts.set(chatId, []);
  }

  isBuffering(chatId: string): boolean {
    return this.#parts.has(chatId);
  }

  /** After every persisted step and before each retry: the parts are durable now, or void. */
  clearParts(chatId: string): void {
    const buffer = this.#parts.get(chatId);
    if (buffer) buffer.length = 0;
  }

  bufferedParts(chatId: string): readonly ChatStreamEvent[] {
    return [...(this.#parts.get(chatId) ?? [])];
  }

  stopBuffering(chatId: string): void {
    this.#parts.delete(chatId);
  }
}

function subscribe<T>(map: Map<string, Set<Listener<T>>>, key: string, listener: Listener<T>): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(listener);
  return () => {
    const current = map.get(key);
    current?.delete(listener);
    if (current?.size === 0) map.delete(key);
  };
}

function emit<T>(map: Map<string, Set<Listener<T>>>, key: string, event: T): void {
  for (const listener of [...(map.get(key) ?? [])]) {
    try {
      listener(event);
    } catch {
      // A broken viewer must not break the run or the other viewers.
    }
  }
}
