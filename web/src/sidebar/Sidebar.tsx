/**
 * The left column: New agent (Ctrl/Cmd+N), search, the Active / Archived filter, the caller's
 * chats grouped by day with sub-agents nested under their parents, infinite scroll, and the
 * account menu.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { Plus, Search } from "lucide-react";
import { useChatList } from "./useChatList.js";
import { buildTree, filterTree, groupByDay } from "./chat-list.js";
import { ChatTreeItem } from "./ChatTreeItem.js";
import { AccountMenu } from "./AccountMenu.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";

export function Sidebar() {
  const navigate = useNavigate();
  const [archived, setArchived] = useState(false);
  const [search, setSearch] = useState("");
  const list = useChatList(archived);
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "n") {
        event.preventDefault();
        navigate("/agents");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const groups = useMemo(() => {
    const chats = list.data?.pages.flat() ?? [];
    return groupByDay(filterTree(buildTree(chats), search), new Date());
  }, [list.data, search]);

  return (
    <nav className="sidebar" aria-label="Agents">
      <div className="sidebar-header">
        <Link to="/agents" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          <span>chatd</span>
        </Link>
        <Link to="/agents" className="btn btn-sm new-agent" aria-keyshortcuts="Control+N Meta+N" title="New agent (Ctrl+N)">
          <Plus size={14} aria-hidden /> New agent
        </Link>
      </div>
      <div className="sidebar-tools">
        <label className="search-box">
          <Search size={14} aria-hidden className="faint" />
          <span className="sr-only">Search agents</span>
          <input type="search" placeholder="Search agents" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <div className="segmented" role="group" aria-label="Filter agents">
          <button type="button" aria-pressed={!archived} onClick={() => setArchived(false)}>
            Active
          </button>
          <button type="button" aria-pressed={archived} onClick={() => setArchived(true)}>
            Archived
          </button>
        </div>
      </div>
      <div className="sidebar-list">
        {list.isError ? <ErrorNotice error={list.error} className="sidebar-error" /> : null}
        {list.isPending ? <div className="sidebar-empty faint">Loading…</div> : null}
        {list.isSuccess && groups.length === 0 ? (
          <div className="sidebar-empty faint">{search ? "No agents match your search." : archived ? "No archived agents." : "No agents yet."}</div>
        ) : null}
        {groups.map(({ group, nodes }) => (
          <section key={group} className="chat-group" aria-label={group}>
            <h2 className="chat-group-title">{group}</h2>
            <ul className="chat-tree" role="list">
              {nodes.map((node) => (
                <ChatTreeItem key={node.chat.id} node={node} depth={0} forceOpen={search.trim() !== ""} />
              ))}
            </ul>
          </section>
        ))}
        <div ref={sentinel} className="sidebar-sentinel">
          {isFetchingNextPage ? <span className="spinner" aria-label="Loading more agents" /> : null}
        </div>
      </div>
      <AccountMenu />
    </nav>
  );
}
