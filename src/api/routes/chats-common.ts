/**
 * What every chat route shares: the `{chat}` parameter (bad UUID → 400; missing or unreadable →
 * the same 404, so chat ids cannot be probed), model config and workspace selection, the lookup
 * of attachable files, and the mapping of chat state module errors to HTTP answers.
 */
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.js";
import { chatFiles, chatModelConfigs, chats, mcpServerConfigs, workspaces } from "../../db/schema/index.js";
import { policyObjectFor, shareRoleOf } from "../../workspaces/access.js";
import { ArchiveStateError } from "../../chats/state.js";
import { MessageEditError, QueueFullError } from "../../chats/queue.js";
import { ChatNotFoundError, type ChatRow } from "../../chats/store.js";
import { ChatInputError, validateInputParts, type ValidatedInput } from "../../chats/input.js";
import { can, type Action } from "../../rbac/policy.js";
import { badRequest, forbidden, HttpError, notFound } from "../errors.js";
import type { Actor } from "../context.js";
import { isUuid } from "../../util/parse.js";
import type { ChatInputPart } from "../../sdk/schemas/parts.js";
import { idField } from "../../sdk/schemas/chats.js";

export const CHATS_PATH = "/api/experimental/chats";
export const CHAT_PATH = `${CHATS_PATH}/:chat`;

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export { isUuid };

export const chatParams = z.object({ chat: idField });

export const CHAT_NOT_FOUND = "Chat not found.";

/**
 * The chat `raw` names when the actor may read it, and also do `action` on it. A chat the actor
 * cannot read answers exactly like one that does not exist.
 */
export async function loadChat(q: Queryable, actor: Actor, raw: string, action: Extract<Action, "read" | "update" | "delete"> = "read"): Promise<ChatRow> {
  if (!isUuid(raw)) throw badRequest("Invalid chat ID.");
  const [row] = await q.select().from(chats).where(eq(chats.id, raw.toLowerCase())).limit(1);
  const object = { type: "chat" as const, ...(row ? { ownerId: row.ownerId } : {}) };
  if (!row || !can(actor.subject, "read", object)) throw notFound(CHAT_NOT_FOUND);
  if (action !== "read" && !can(actor.subject, action, object)) throw forbidden();
  return row;
}

const INVALID_MODEL_CONFIG = "Invalid model config ID.";

/**
 * The model config a chat or message should use: the explicit one, which must be live and
 * enabled, or (when `fallbackToDefault`) the default one. Disabled configs are refused because
 * an admin disables a model precisely to stop new work on it.
 */
export async function resolveModelConfigId(q: Queryable, explicit: string | null | undefined): Promise<string | undefined>;
export async function resolveModelConfigId(q: Queryable, explicit: string | null | undefined, fallbackToDefault: true): Promise<string>;
export async function resolveModelConfigId(q: Queryable, explicit: string | null | undefined, fallbackToDefault = false): Promise<string | undefined> {
  if (explicit !== undefined && explicit !== null) {
    const id = explicit.trim().toLowerCase();
    if (!isUuid(id) || id === NIL_UUID) throw badRequest(INVALID_MODEL_CONFIG);
    const [config] = await q
      .select({ id: chatModelConfigs.id, enabled: chatModelConfigs.enabled })
      .from(chatModelConfigs)
      .where(and(eq(chatModelConfigs.id, id), eq(chatModelConfigs.deleted, false)))
      .limit(1);
    if (!config) throw badRequest(INVALID_MODEL_CONFIG, `No chat model config with ID ${id} exists.`);
    if (!config.enabled) throw badRequest(INVALID_MODEL_CONFIG, `Chat model config ${id} is disabled.`);
    return config.id;
  }
  if (!fallbackToDefault) return undefined;
  const [fallback] = await q
    .select({ id: chatModelConfigs.id, enabled: chatModelConfigs.enabled })
    .from(chatModelConfigs)
    .where(and(eq(chatModelConfigs.isDefault, true), eq(chatModelConfigs.deleted, false)))
    .limit(1);
  if (!fallback) throw badRequest("No default chat model config is configured.");
  if (!fallback.enabled) throw badRequest("No default chat model config is configured.", "The default chat model config is disabled.");
  return fallback.id;
}

export const WORKSPACE_NOT_ACCESSIBLE = "Workspace not found or you do not have access to this resource";

/**
 * The workspace a new chat attaches to. The caller must be able to read it AND hold `ssh` on it
 * (Coder PR #23094: read alone, which admins have on every workspace, must not let them run code
 * as its owner). Every refusal, including a deleted or unknown workspace, gets the same answer so
 * workspace ids cannot be probed.
 */
export async function resolveWorkspaceId(q: Queryable, actor: Actor, workspaceId: string | null | undefined): Promise<string | null> {
  if (workspaceId === undefined || workspaceId === null) return null;
  const id = workspaceId.trim().toLowerCase();
  if (!isUuid(id)) throw badRequest(WORKSPACE_NOT_ACCESSIBLE);
  const [row] = await q
    .select({ ownerId: workspaces.ownerId })
    .from(workspaces)
    .where(and(eq(workspaces.id, id), eq(workspaces.deleted, false)))
    .limit(1);
  if (!row) throw badRequest(WORKSPACE_NOT_ACCESSIBLE);
  const object = policyObjectFor(row, await shareRoleOf(q, id, actor.subject));
  if (!can(actor.subject, "read", object) || !can(actor.subject, "ssh", object)) throw badRequest(WORKSPACE_NOT_ACCESSIBLE);
  return id;
}

const INVALID_MCP_SERVER_IDS = "One or more MCP server IDs are invalid.";

/**
 * The MCP servers a chat uses: every id must name an enabled config (behavior.md section 3).
 * Omitted: `whenOmitted` — the default_on servers for a new chat, undefined (unchanged) for a
 * message. force_on servers are added at run time, so they need not be listed.
 */
export async function checkMcpServerIds(q: Queryable, ids: readonly string[] | undefined, whenOmitted: "default_on"): Promise<string[]>;
export async function checkMcpServerIds(q: Queryable, ids: readonly string[] | undefined): Promise<string[] | undefined>;
export async function checkMcpServerIds(q: Queryable, ids: readonly string[] | undefined, whenOmitted?: "default_on"): Promise<string[] | undefined> {
  if (ids === undefined) {
    if (whenOmitted === undefined) return undefined;
    const rows = await q
      .select({ id: mcpServerConfigs.id })
      .from(mcpServerConfigs)
      .where(and(eq(mcpServerConfigs.enabled, true), eq(mcpServerConfigs.availability, "default_on")));
    return rows.map((row) => row.id);
  }
  const wanted = [...new Set(ids.map((id) => id.trim().toLowerCase()))];
  if (wanted.length === 0) return [];
  const malformed = wanted.filter((id) => !isUuid(id));
  const found =
    malformed.length === wanted.length
      ? []
      : await q
          .select({ id: mcpServerConfigs.id })
          .from(mcpServerConfigs)
          .where(and(eq(mcpServerConfigs.enabled, true), inArray(mcpServerConfigs.id, wanted.filter((id) => isUuid(id)))));
  const known = new Set(found.map((row) => row.id));
  const invalid = wanted.filter((id) => !known.has(id));
  if (invalid.length > 0) throw badRequest(INVALID_MCP_SERVER_IDS, `Invalid IDs: ${invalid.join(", ")}`);
  return wanted;
}

/** A message that names MCP servers changes the chat's choice for this and later runs. */
export async function updateChatMcpServerIds(q: Queryable, chatId: string, ids: readonly string[] | undefined): Promise<void> {
  if (ids === undefined) return;
  await q.update(chats).set({ mcpServerIds: [...ids] }).where(eq(chats.id, chatId));
}

/** Validates input parts; files must exist and belong to the caller. */
export async function validateContent(q: Queryable, actor: Actor, content: readonly ChatInputPart[] | undefined): Promise<ValidatedInput> {
  try {
    return await validateInputParts(content, async (fileId) => {
      const [file] = await q
        .select({ mimetype: chatFiles.mimetype })
        .from(chatFiles)
        .where(and(eq(chatFiles.id, fileId), eq(chatFiles.ownerId, actor.user.id)))
        .limit(1);
      return file ? { mediaType: file.mimetype } : undefined;
    });
  } catch (error) {
    if (error instanceof ChatInputError) throw badRequest(error.message, error.detail);
    throw error;
  }
}

/** Runs a chat state transition and answers its refusals as HTTP errors. */
export async function transition<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // Deleted between the route's read and the transition's lock.
    if (error instanceof ChatNotFoundError) throw notFound(CHAT_NOT_FOUND);
    if (error instanceof QueueFullError) throw new HttpError(429, "Message queue is full.", error.message);
    if (error instanceof ArchiveStateError) throw badRequest(error.message);
    if (error instanceof MessageEditError) {
      if (error.reason === "not_found") throw new HttpError(404, error.message, "Message does not belong to this chat.");
      throw badRequest(error.message);
    }
    throw error;
  }
}

/** Strictly a positive or negative whole number in decimal, as Go's ParseInt accepts. */
const INTEGER = /^[+-]?\d+$/;

/** A path id that must be a safe integer; undefined when it is not. */
export function parseIntegerId(raw: string): number | undefined {
  if (!INTEGER.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}
