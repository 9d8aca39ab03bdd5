import { describe, expect, it } from "vitest";
import { applyWatchEvent, buildTree, dayGroupOf, filterTree, groupByDay, type SidebarChat } from "../../web/src/sidebar/chat-list.js";
import type { ChatWatchEvent } from "../../src/sdk/schemas/index.js";

let counter = 0;
function chat(updatedAt: string, extra: Partial<SidebarChat> = {}): SidebarChat {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`;
  return { id, title: `chat ${counter}`, status: "waiting", created_at: updatedAt, updated_at: updatedAt, parent_chat_id: null, root_chat_id: id, workspace_id: null, archived: false, ...extra };
}
function event(kind: ChatWatchEvent["kind"], c: SidebarChat): ChatWatchEvent {
  return { kind, chat: { ...c, owner_id: "00000000-0000-4000-8000-00000000ffff" } };
}

describe("sidebar chat list", () => {
  it("adds a created chat at the top and moves an updated one to where its time puts it", () => {
    const older = chat("2026-01-01T10:00:00Z");
    const old = chat("2026-01-01T09:00:00Z");
    const fresh = chat("2026-01-01T11:00:00Z");
    let pages = applyWatchEvent([[older, old]], event("created", fresh), false);
    expect(pages[0]?.map((c) => c.id)).toEqual([fresh.id, older.id, old.id]);
    pages = applyWatchEvent(pages, event("status_change", { ...old, status: "running", updated_at: "2026-01-01T12:00:00Z" }), false);
    expect(pages[0]?.map((c) => c.id)).toEqual([old.id, fresh.id, older.id]);
    expect(pages[0]?.[0]?.status).toBe("running");
  });

  it("archiving removes a chat from the active list and adds it to the archived list", () => {
    const a = chat("2026-01-01T10:00:00Z");
    expect(applyWatchEvent([[a]], event("deleted", a), false)).toEqual([[]]);
    expect(applyWatchEvent([[]], event("deleted", a), true)[0]?.[0]).toMatchObject({ id: a.id, archived: true });
    expect(applyWatchEvent([[{ ...a, archived: true }]], event("created", a), true)).toEqual([[]]);
  });

  it("ignores events for chats of the other list that it does not hold", () => {
    const a = chat("2026-01-01T10:00:00Z");
    expect(applyWatchEvent([[a]], event("title_change", { ...chat("2026-01-01T11:00:00Z"), archived: true }), false)).toEqual([[a]]);
  });

  it("nests sub-agents under their parent, and keeps orphans at the top level", () => {
    const parent = chat("2026-01-01T10:00:00Z");
    const child = chat("2026-01-01T10:05:00Z", { parent_chat_id: parent.id, root_chat_id: parent.id });
    const orphan = chat("2026-01-01T10:06:00Z", { parent_chat_id: "00000000-0000-4000-8000-999999999999" });
    const tree = buildTree([orphan, child, parent]);
    expect(tree.map((node) => node.chat.id)).toEqual([orphan.id, parent.id]);
    expect(tree[1]?.children.map((node) => node.chat.id)).toEqual([child.id]);
    expect(filterTree(tree, chat("x").title === "" ? "" : child.title).map((node) => node.chat.id)).toEqual([parent.id]);
  });

  it("groups by local calendar day: Today, Yesterday, This week, Older", () => {
    const now = new Date(2026, 5, 10, 9, 0, 0);
    const at = (days: number, hour = 8) => new Date(2026, 5, 10 - days, hour).toISOString();
    expect(dayGroupOf(at(0, 0), now)).toBe("Today");
    expect(dayGroupOf(at(1, 23), now)).toBe("Yesterday");
    expect(dayGroupOf(at(7), now)).toBe("This week");
    expect(dayGroupOf(at(8), now)).toBe("Older");
    const groups = groupByDay(buildTree([chat(at(0)), chat(at(3)), chat(at(30))]), now);
    expect(groups.map((group) => group.group)).toEqual(["Today", "This week", "Older"]);
  });
});
