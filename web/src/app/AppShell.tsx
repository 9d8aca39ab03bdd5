/** Signed-in layout: the sidebar beside the routed page; the chat watch lives as long as it. */
import { Outlet } from "react-router";
import { Sidebar } from "../sidebar/Sidebar.js";
import { useChatWatch } from "../sidebar/useChatList.js";

export function AppShell() {
  useChatWatch();
  return (
    <div className="app-shell">
      <Sidebar />
      <div className="app-main">
        <Outlet />
      </div>
    </div>
  );
}
