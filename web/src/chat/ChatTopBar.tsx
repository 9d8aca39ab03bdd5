/** The chat's header: title (live), status, workspace, and what the loaded messages cost. */
import type { ChatMessageResponse, ChatResponse } from "../../../src/sdk/schemas/index.js";
import { StatusIcon, statusLabel } from "../sidebar/StatusIcon.js";
import { totalCostMicros, type ChatStatus } from "./timeline-state.js";
import { formatMicros } from "../ui/money.js";

export function ChatTopBar({ chat, status, messages }: { chat: ChatResponse | undefined; status: ChatStatus | null; messages: readonly ChatMessageResponse[] }) {
  const cost = totalCostMicros(messages);
  const priced = messages.some((message) => message.total_cost_micros !== undefined);
  return (
    <header className="chat-top-bar">
      <h1 className="chat-heading" title={chat?.title}>
        {chat?.title || "New Chat"}
      </h1>
      {status ? (
        <span className={`status-pill status-pill-${status}`}>
          <StatusIcon status={status} size={12} /> {statusLabel(status)}
        </span>
      ) : null}
      <span className="top-bar-spacer" />
      {priced ? (
        <span className="chat-cost faint" title="Cost of the messages shown, from each step's priced usage">
          {formatMicros(cost)}
        </span>
      ) : null}
    </header>
  );
}
