/**
 * One chat in the sidebar: status icon, title, age, a menu with Archive / Unarchive, and its
 * sub-agents behind a disclosure toggle.
 */
import { useState } from "react";
import { NavLink } from "react-router";
import { useMutation } from "@tanstack/react-query";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { Archive, ArchiveRestore, ChevronRight, Ellipsis } from "lucide-react";
import { api } from "../app/api.js";
import { StatusIcon } from "./StatusIcon.js";
import { relativeTime } from "../ui/time.js";
import type { ChatTreeNode } from "./chat-list.js";

export function ChatTreeItem({ node, depth, forceOpen }: { node: ChatTreeNode; depth: number; forceOpen: boolean }) {
  const { chat, children } = node;
  const [open, setOpen] = useState(false);
  const expanded = open || forceOpen;
  const archive = useMutation({ mutationFn: (archived: boolean) => api.updateChat(chat.id, { archived }) });
  const title = chat.title || "New Chat";
  return (
    <li className="chat-tree-item">
      <div className="chat-row" style={{ paddingLeft: 6 + depth * 14 }}>
        {children.length > 0 ? (
          <button
            type="button"
            className="tree-toggle"
            aria-expanded={expanded}
            aria-label={`${expanded ? "Hide" : "Show"} ${children.length} sub-agent${children.length === 1 ? "" : "s"} of ${title}`}
            onClick={() => setOpen(!open)}
          >
            <ChevronRight size={12} className={expanded ? "rotated" : ""} aria-hidden />
          </button>
        ) : (
          <span className="tree-toggle-spacer" />
        )}
        <NavLink to={`/agents/${chat.id}`} className="chat-link">
          <StatusIcon status={chat.status} />
          <span className="chat-title">{title}</span>
          <span className="chat-age faint">{relativeTime(chat.updated_at)}</span>
        </NavLink>
        <DropdownMenu.Root>
          <DropdownMenu.Trigger className="btn btn-ghost btn-icon btn-sm chat-menu-trigger" aria-label={`Actions for ${title}`}>
            <Ellipsis size={14} aria-hidden />
          </DropdownMenu.Trigger>
          <DropdownMenu.Portal>
            <DropdownMenu.Content className="menu-content" align="end" sideOffset={4}>
              {chat.archived ? (
                <DropdownMenu.Item className="menu-item" onSelect={() => archive.mutate(false)}>
                  <ArchiveRestore size={14} aria-hidden /> Unarchive
                </DropdownMenu.Item>
              ) : (
                <DropdownMenu.Item className="menu-item" onSelect={() => archive.mutate(true)}>
                  <Archive size={14} aria-hidden /> Archive
                </DropdownMenu.Item>
              )}
            </DropdownMenu.Content>
          </DropdownMenu.Portal>
        </DropdownMenu.Root>
      </div>
      {children.length > 0 && expanded ? (
        <ul className="chat-tree" role="list">
          {children.map((child) => (
            <ChatTreeItem key={child.chat.id} node={child} depth={depth + 1} forceOpen={forceOpen} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}
