/**
 * The sidebar's chat list as pure functions, so the rules are tested without a browser:
 * - the list holds the fields the watch stream carries (`SidebarChat`), newest `updated_at` first;
 * - a watch event replaces the chat's entry (or adds it) and keeps that order; archiving removes
 *   it from the active list and unarchiving from the archived one;
 * - sub-agents nest under their parent when the parent is in the list, else they stand alone;
 * - day groups are Today, Yesterday, This week (the six days before yesterday) and Older, by local
 *   calendar day of `updated_at`.
 */
import type { ChatWatchEvent, ChatResponse } from "../../../src/sdk/schemas/index.js";

export type SidebarChat = Pick<
  ChatResponse,
  "id" | "title" | "status" | "created_at" | "updated_at" | "parent_chat_id" | "root_chat_id" | "workspace_id" | "archived"
>;

export function toSidebarChat(chat: SidebarChat): SidebarChat {
  return {
    id: chat.id,
    title: chat.title,
    status: chat.status,
    created_at: chat.created_at,
    updated_at: chat.updated_at,
    parent_chat_id: chat.parent_chat_id,
    root_chat_id: chat.root_chat_id,
    workspace_id: chat.workspace_id,
    archived: chat.archived,
  };
}

const newestFirst = (a: SidebarChat, b: SidebarChat) =>
  a.updated_at === b.updated_at ? (a.id < b.id ? 1 : -1) : a.updated_at < b.updated_at ? 1 : -1;

/**
 * Applies one watch event to the pages of one list (`archived` says which). Returns the same
 * array when nothing changed, so React Query keeps its cached object.
 */
export function applyWatchEvent(pages: readonly SidebarChat[][], event: ChatWatchEvent, archived: boolean): SidebarChat[][] {
  const chat = toSidebarChat({ ...event.chat, archived: event.kind === "deleted" ? true : event.kind === "created" ? false : event.chat.archived });
  const belongs = chat.archived === archived;
  const present = pages.some((page) => page.some((entry) => entry.id === chat.id));
  if (!present && !belongs) return [...pages];
  const without = pages.map((page) => page.filter((entry) => entry.id !== chat.id));
  if (!belongs) return without;
  // A chat goes where its updated_at puts it: into the first page whose last entry is older.
  const placed = without.map((page) => [...page]);
  if (placed.length === 0) placed.push([]);
  const target = placed.findIndex((page) => {
    const last = page[page.length - 1];
    return !last || newestFirst(chat, last) < 0;
  });
  const page = placed[target === -1 ? placed.length - 1 : target] ?? [];
  page.push(chat);
  page.sort(newestFirst);
  return placed;
}

export interface ChatTreeNode {
  chat: SidebarChat;
  children: ChatTreeNode[];
}

/** Nests sub-agents under their parents, keeping the list order at each level. */
export function buildTree(chats: readonly SidebarChat[]): ChatTreeNode[] {
  const nodes = new Map<string, ChatTreeNode>();
  for (const chat of chats) nodes.set(chat.id, { chat, children: [] });
  const roots: ChatTreeNode[] = [];
  for (const chat of chats) {
    const node = nodes.get(chat.id);
    if (!node) continue;
    const parent = chat.parent_chat_id ? nodes.get(chat.parent_chat_id) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

export const DAY_GROUPS = ["Today", "Yesterday", "This week", "Older"] as const;
export type DayGroup = (typeof DAY_GROUPS)[number];

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function dayGroupOf(timestamp: string, now: Date): DayGroup {
  const today = startOfDay(now);
  const day = startOfDay(new Date(timestamp));
  const daysAgo = Math.round((today - day) / 86_400_000);
  if (daysAgo <= 0) return "Today";
  if (daysAgo === 1) return "Yesterday";
  if (daysAgo < 8) return "This week";
  return "Older";
}

/** Root nodes in day groups (by the root's own `updated_at`), empty groups left out. */
export function groupByDay(roots: readonly ChatTreeNode[], now: Date): { group: DayGroup; nodes: ChatTreeNode[] }[] {
  const groups = new Map<DayGroup, ChatTreeNode[]>();
  for (const node of roots) {
    const group = dayGroupOf(node.chat.updated_at, now);
    const list = groups.get(group) ?? [];
    list.push(node);
    groups.set(group, list);
  }
  return DAY_GROUPS.flatMap((group) => {
    const nodes = groups.get(group);
    return nodes ? [{ group, nodes }] : [];
  });
}

/** Case-insensitive title match; a child that matches keeps its parent visible. */
export function filterTree(roots: readonly ChatTreeNode[], search: string): ChatTreeNode[] {
  const needle = search.trim().toLowerCase();
  if (!needle) return [...roots];
  const keep = (node: ChatTreeNode): ChatTreeNode | undefined => {
    const children = node.children.map(keep).filter((child): child is ChatTreeNode => child !== undefined);
    if (node.chat.title.toLowerCase().includes(needle) || children.length > 0) return { chat: node.chat, children };
    return undefined;
  };
  return roots.map(keep).filter((node): node is ChatTreeNode => node !== undefined);
}
