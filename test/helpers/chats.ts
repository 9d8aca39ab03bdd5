/**
 * Fixtures for chat engine tests: a user and a model config in a fresh database, hints recorded
 * in memory, and chats forced into any status.
 */
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import { chatMessages, chatModelConfigs, chatProviders, chats, users } from "../../src/db/schema/index.js";
import type { ChatHints, OwnerHint, StreamHint } from "../../src/chats/hints.js";
import { createChat } from "../../src/chats/state.js";
import type { ChatRow } from "../../src/chats/store.js";

export interface RecordedHints extends ChatHints {
  streams: Array<{ chatId: string; hint: StreamHint }>;
  owners: Array<{ ownerId: string; hint: OwnerHint }>;
  clear(): void;
}

export function recordingHints(): RecordedHints {
  const streams: RecordedHints["streams"] = [];
  const owners: RecordedHints["owners"] = [];
  return {
    streams,
    owners,
    stream: async (_tx, chatId, hint) => void streams.push({ chatId, hint }),
    owner: async (_tx, ownerId, hint) => void owners.push({ ownerId, hint }),
    pending: async () => undefined,
    clear: () => {
      streams.length = 0;
      owners.length = 0;
    },
  };
}

export interface ChatFixture {
  ownerId: string;
  modelConfigId: string;
}

let counter = 0;

export async function chatFixture(db: Database): Promise<ChatFixture> {
  counter += 1;
  const [user] = await db
    .insert(users)
    .values({ username: `chat-owner-${counter}`, email: `chat-owner-${counter}@example.com`, hashedPassword: "x" })
    .returning();
  await db.insert(chatProviders).values({ provider: "anthropic" }).onConflictDoNothing();
  const [config] = await db
    .insert(chatModelConfigs)
    .values({ provider: "anthropic", model: `model-${counter}`, contextLimit: 200_000 })
    .returning();
  if (!user || !config) throw new Error("fixture insert failed");
  return { ownerId: user.id, modelConfigId: config.id };
}

export type ForcedStatus = "waiting" | "pending" | "running" | "error";

/** A chat with one user message, forced into `status` (running under `workerId`). */
export async function chatIn(
  db: Database,
  fixture: ChatFixture,
  status: ForcedStatus,
  options: { workerId?: string; heartbeatAt?: Date } = {},
): Promise<ChatRow> {
  const { chat } = await createChat(db, recordingHints(), {
    ownerId: fixture.ownerId,
    title: "test chat",
    modelConfigId: fixture.modelConfigId,
    messages: [{ role: "user", parts: [{ type: "text", text: "hello" }], createdBy: fixture.ownerId }],
  });
  const running = status === "running";
  const [row] = await db
    .update(chats)
    .set({
      status,
      workerId: running ? (options.workerId ?? null) : null,
      // Millisecond precision, as acquireChats writes it, so a lease built from it matches.
      startedAt: running ? sql`date_trunc('milliseconds', now())` : null,
      heartbeatAt: running ? (options.heartbeatAt ?? sql`now()`) : null,
      lastError: status === "error" ? "earlier failure" : null,
    })
    .where(eq(chats.id, chat.id))
    .returning();
  if (!row) throw new Error("chat vanished");
  return row;
}

export async function reloadChat(db: Database, chatId: string): Promise<ChatRow> {
  const [row] = await db.select().from(chats).where(eq(chats.id, chatId));
  if (!row) throw new Error(`chat ${chatId} not found`);
  return row;
}

export async function liveMessages(db: Database, chatId: string) {
  const rows = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(chatMessages.id);
  return rows.filter((row) => !row.deleted);
}
