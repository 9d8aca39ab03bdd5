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
import { randomUUID } from "node:crypto";
import type { ChatMessagePart } from "../sdk/schemas/parts.js";
import type { ChatStatus } from "../sdk/schemas/chats.js";

/**
 * A streamed delta. `episode` names one model-call attempt (a step, or a retry of it); `seq` counts
 * its parts from 1. A client that reconnects with its last (episode, seq) gets exactly the parts
 * after it while the episode is live, or a `preview_reset` when it is not.
 */
export interface MessagePartEvent {
  role: "assistant" | "tool";
  part: ChatMessagePart;
  episode: string;
  seq: number;
}

export type ChatStreamEvent =
  | { type: "message"; chat_id: string; message_id: number }
  | { type: "message_part"; chat_id: string; message_part: MessagePartEvent }
  /** The in-progress preview is void (a new step, a retry, an edit): drop it, a new episode starts. */
  | { type: "preview_reset"; chat_id: string; episode: string }
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
  readonly #episodes = new Map<string, { id: string; seq: number }>();
  /** Part events dropped because a buffer was full (exported as a metric later). */
  droppedParts = 0;

  subscribeChat(chatId: string, listener: Listener<ChatStreamEvent>): () => void {
    return subscribe(this.#chatListeners, chatId, listener);
  }

  subscribeOwner(ownerId: string, listener: Listener<OwnerEvent>): () => void {
    return subscribe(this.#ownerListeners, ownerId, listener);
  }

  /**
   * Starts a new episode for a running chat (each model-call attempt): the buffer is emptied and
   * viewers are told to drop their preview.
   */
  beginEpisode(chatId: string): string {
    const id = randomUUID();
    this.#episodes.set(chatId, { id, seq: 0 });
    this.clearParts(chatId);
    this.publish({ type: "preview_reset", chat_id: chatId, episode: id });
    return id;
  }

  currentEpisode(chatId: string): { id: string; seq: number } | undefined {
    const episode = this.#episodes.get(chatId);
    return episode ? { ...episode } : undefined;
  }

  /** Publishes one delta of the chat's current episode, numbering it. */
  publishPart(chatId: string, role: MessagePartEvent["role"], part: ChatMessagePart): void {
    let episode = this.#episodes.get(chatId);
    if (!episode) {
      episode = { id: randomUUID(), seq: 0 };
      this.#episodes.set(chatId, episode);
    }
    episode.seq += 1;
    this.publish({ type: "message_part", chat_id: chatId, message_part: { role, part, episode: episode.id, seq: episode.seq } });
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
    this.#episodes.delete(chatId);
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
