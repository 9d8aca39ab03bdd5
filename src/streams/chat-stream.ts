/**
 * One viewer of one chat (behavior.md section 4, `/{chat}/stream`).
 *
 * Order of work, which is what makes the stream exact:
 * 1. subscribe to the chat's pubsub hints and (when this replica runs the chat) to the hub, before
 *    reading anything, so no change can fall between the snapshot and the live stream;
 * 2. send the snapshot: status, then the live episode's parts (only those after the client's
 *    `after_part` when it is still the live episode, else a preview reset and all of them), then
 *    durable messages after `after_id`, then the queue if it is not empty;
 * 3. then live events, durable ones re-read from the database in hint order by a cursor (only
 *    rows after the last one sent: catch-up never re-reads the history).
 *
 * Every event leaves through one serialized chain per viewer, in the order this replica received
 * what caused it (a hub part, a pubsub hint). A part never overtakes a stored message whose hint
 * came first while that message is being read, so every viewer of a chat on this replica gets
 * the same sequence, however long its own reads take.
 */
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatMessages, chats } from "../db/schema/index.js";
import type { Pubsub, PubsubMessage } from "../pubsub/pubsub.js";
import { streamChannel, streamHintSchema } from "../chats/hints.js";
import { toChatMessageResponse, toQueuedMessageResponse } from "../chats/api.js";
import { publicPart } from "../chats/parts.js";
import { queuedMessages } from "../chats/store.js";
import type { ChatEventHub, ChatStreamEvent } from "../chatd/events.js";
import type { EventSocket } from "./socket.js";
import type { RelayConnection, RelayDialer } from "./relay.js";
import { safeJson } from "../util/parse.js";
import type { ChatStatus } from "../sdk/schemas/chats.js";
import type { StreamEvent } from "../sdk/schemas/streams.js";

export interface ResumePoint {
  afterId: number;
  afterPart?: { episode: string; seq: number } | undefined;
}

export interface ChatStreamDeps {
  db: Database;
  pubsub: Pubsub;
  hub: ChatEventHub;
  /** This replica's id (the worker id of the chats it runs). */
  replicaId: string;
  /** Reaches the replica running a chat; absent on a single replica. */
  relay?: RelayDialer;
}

/** behavior.md: a dropped relay is redialed after 500 ms while the chat still runs remotely. */
export const RELAY_REDIAL_DELAY_MS = 500;

/**
 * Forwards each part at most once, whichever path (local hub, relay, redialed relay) brings it:
 * within an episode only increasing `seq` passes; a new episode starts over.
 */
export class PartGate {
  #episode: string | undefined;
  #seq = 0;

  get last(): { episode: string; seq: number } | undefined {
    return this.#episode === undefined ? undefined : { episode: this.#episode, seq: this.#seq };
  }

  constructor(start?: { episode: string; seq: number }) {
    if (start) {
      this.#episode = start.episode;
      this.#seq = start.seq;
    }
  }

  admit(event: StreamEvent): boolean {
    if (event.type === "preview_reset") {
      if (event.preview_reset.episode === this.#episode) return false;
      this.#episode = event.preview_reset.episode;
      this.#seq = 0;
      return true;
    }
    if (event.type !== "message_part") return true;
    const { episode, seq } = event.message_part;
    if (episode === this.#episode && seq <= this.#seq) return false;
    if (episode !== this.#episode) this.#episode = episode;
    this.#seq = seq;
    return true;
  }
}


export function partEvent(event: ChatStreamEvent): StreamEvent | undefined {
  if (event.type === "message_part") {
    const { role, part, episode, seq } = event.message_part;
    return { type: "message_part", chat_id: event.chat_id, message_part: { role, part: publicPart(part), episode, seq } };
  }
  if (event.type === "preview_reset") return { type: "preview_reset", chat_id: event.chat_id, preview_reset: { episode: event.episode } };
  return undefined;
}

export async function runChatStream(deps: ChatStreamDeps, chatId: string, socket: EventSocket<StreamEvent>, resume: ResumePoint): Promise<void> {
  let cursor = resume.afterId;
  let snapshotSent = false;
  const early: StreamEvent[] = [];
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(work).catch(() => socket.fail("failed to read chat updates"));
  };

  const readMessages = async (): Promise<StreamEvent[]> => {
    const rows = await deps.db
      .select()
      .from(chatMessages)
      .where(
        and(
          eq(chatMessages.chatId, chatId),
          gt(chatMessages.id, cursor),
          eq(chatMessages.deleted, false),
          inArray(chatMessages.visibility, ["user", "both"]),
        ),
      )
      .orderBy(asc(chatMessages.id));
    const last = rows.at(-1);
    if (last) cursor = last.id;
    return rows.map((row) => ({ type: "message", chat_id: chatId, message: toChatMessageResponse(row) }));
  };
  const readQueue = async (): Promise<StreamEvent> => ({
    type: "queue_update",
    chat_id: chatId,
    queued_messages: (await queuedMessages(deps.db, chatId)).map(toQueuedMessageResponse),
  });
  let running: { status: ChatStatus; workerId: string | null } = { status: "waiting", workerId: null };
  const readStatus = async (): Promise<StreamEvent | undefined> => {
    const [row] = await deps.db.select({ status: chats.status, workerId: chats.workerId }).from(chats).where(eq(chats.id, chatId));
    if (!row) return undefined;
    running = { status: row.status, workerId: row.workerId };
    return { type: "status", chat_id: chatId, status: { status: row.status } };
  };

  // Parts pass one gate whichever way they come, so none is sent twice.
  const gate = new PartGate(resume.afterPart);
  const deliver = (events: StreamEvent[]) => {
    if (snapshotSent) socket.push(...events);
    else early.push(...events);
  };
  const sendPart = (event: StreamEvent) => {
    // Admitted at arrival (the gate's order is arrival order), sent in turn with the hints.
    if (!gate.admit(event)) return;
    enqueue(async () => deliver([event]));
  };

  let relay: { workerId: string; connection?: RelayConnection } | undefined;
  const closeRelay = () => {
    relay?.connection?.close();
    relay = undefined;
  };
  /** Dials the replica running the chat, or drops the relay when the chat no longer runs elsewhere. */
  const followWorker = () => {
    const remote = running.status === "running" && running.workerId !== null && running.workerId !== deps.replicaId ? running.workerId : undefined;
    if (!remote || !deps.relay || socket.closed) {
      closeRelay();
      return;
    }
    if (relay?.workerId === remote) return;
    closeRelay();
    const attempt: { workerId: string; connection?: RelayConnection } = { workerId: remote };
    relay = attempt;
    void deps.relay
      .dial(chatId, remote, gate.last, {
        onEvent: (event) => {
          if (relay === attempt) sendPart(event);
        },
        onClose: () => {
          if (relay !== attempt) return;
          relay = undefined;
          // Still running over there: try again shortly (the gate drops what we already have).
          setTimeout(() => {
            if (!socket.closed && relay === undefined) followWorker();
          }, RELAY_REDIAL_DELAY_MS).unref();
        },
      })
      .then((connection) => {
        // A dial for a worker the chat has since left is discarded.
        if (relay !== attempt || socket.closed) connection?.close();
        else if (connection) attempt.connection = connection;
      });
  };

  const onHint = (message: PubsubMessage) => {
    if (message.type === "missed") {
      // Hints were lost while the listener reconnected: re-read everything they could have said.
      enqueue(async () => {
        const status = await readStatus();
        socket.push(...(status ? [status] : []), ...(await readMessages()), await readQueue());
      });
      return;
    }
    const hint = streamHintSchema.safeParse(safeJson(message.payload));
    if (!hint.success) return;
    const h = hint.data;
    enqueue(async () => {
      const events: StreamEvent[] = [];
      if (h.status) {
        running = { status: h.status, workerId: h.worker_id ?? null };
        followWorker();
        events.push({ type: "status", chat_id: chatId, status: { status: h.status } });
      }
      if (h.full_refresh) cursor = 0;
      if (h.after_message_id !== undefined || h.full_refresh) events.push(...(await readMessages()));
      if (h.queue_update) events.push(await readQueue());
      if (h.retry) events.push({ type: "retry", chat_id: chatId, retry: h.retry });
      if (h.error) events.push({ type: "error", chat_id: chatId, error: { message: h.error } });
      deliver(events);
    });
  };

  const unsubscribeHints = await deps.pubsub.subscribe(streamChannel(chatId), onHint);
  // Taking the buffer and subscribing happen in one synchronous step: no part can fall between.
  const buffered = deps.hub.bufferedParts(chatId).flatMap((event) => partEvent(event) ?? []);
  const episode = deps.hub.currentEpisode(chatId);
  // Admitted now, before any live part can pass the gate ahead of them.
  const parts = resumeParts(buffered, episode, resume.afterPart, chatId).filter((event) => gate.admit(event));
  const unsubscribeHub = deps.hub.subscribeChat(chatId, (event) => {
    const wire = partEvent(event);
    if (wire) sendPart(wire);
  });
  socket.onClose(() => {
    closeRelay();
    unsubscribeHub();
    void unsubscribeHints().catch(() => undefined);
  });

  try {
    const status = await readStatus();
    // Read and sent inside the chain: what was enqueued before goes out right after it (early),
    // what is enqueued after goes out directly, and no message is sent twice.
    await new Promise<void>((resolve, reject) => {
      enqueue(async () => {
        try {
          const snapshot: StreamEvent[] = [...(status ? [status] : []), ...parts, ...(await readMessages())];
          const queue = await readQueue();
          if (queue.type === "queue_update" && queue.queued_messages.length > 0) snapshot.push(queue);
          socket.push(...snapshot, ...early.splice(0));
          snapshotSent = true;
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    followWorker();
  } catch {
    socket.fail("failed to load initial snapshot");
  }
}

/** The buffered parts a (re)connecting client still needs, never one it already has. */
export function resumeParts(
  buffered: StreamEvent[],
  episode: { id: string; seq: number } | undefined,
  afterPart: ResumePoint["afterPart"],
  chatId: string,
): StreamEvent[] {
  if (!episode || buffered.length === 0) {
    return afterPart && episode ? [{ type: "preview_reset", chat_id: chatId, preview_reset: { episode: episode.id } }] : [];
  }
  if (afterPart && afterPart.episode === episode.id) {
    return buffered.filter((event) => event.type === "message_part" && event.message_part.episode === episode.id && event.message_part.seq > afterPart.seq);
  }
  const current = buffered.filter((event) => event.type === "message_part" && event.message_part.episode === episode.id);
  return afterPart ? [{ type: "preview_reset", chat_id: chatId, preview_reset: { episode: episode.id } }, ...current] : current;
}
