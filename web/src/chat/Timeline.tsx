/**
 * The chat's rows in a virtualized list (react-virtuoso): only rows near the viewport are in the
 * DOM, so a chat of thousands of messages opens as fast as a short one. It opens at the bottom,
 * follows new output while the reader is at the bottom (and stays put when they scrolled up), and
 * loads older pages when the top is reached.
 */
import { useMemo, useRef } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";
import { buildTimelineItems, type TimelineItem } from "./timeline-items.js";
import type { TimelineState } from "./timeline-state.js";
import { AssistantRow, LiveRow, UserRow } from "./MessageRows.js";

/** A large base index lets older pages be prepended by lowering firstItemIndex (virtuoso's model). */
const FIRST_INDEX_BASE = 1_000_000;

interface TimelineProps {
  state: TimelineState;
  hasOlder: boolean;
  onLoadOlder(): void;
  onEdit(messageId: number, text: string): void;
  footer: React.ReactNode;
}

export function Timeline({ state, hasOlder, onLoadOlder, onEdit, footer }: TimelineProps) {
  const items = useMemo(() => buildTimelineItems(state.messages, state.live.blocks), [state.messages, state.live.blocks]);
  const running = state.status === "running" || state.status === "pending";
  const virtuoso = useRef<VirtuosoHandle>(null);
  const firstMessageIndex = usePrependIndex(items);
  const lastUserId = useMemo(() => [...state.messages].reverse().find((message) => message.role === "user")?.id, [state.messages]);

  return (
    <Virtuoso
      ref={virtuoso}
      className="timeline"
      data={items}
      firstItemIndex={firstMessageIndex}
      initialTopMostItemIndex={Math.max(0, items.length - 1)}
      alignToBottom
      followOutput={(atBottom) => (atBottom ? "auto" : false)}
      atBottomThreshold={80}
      increaseViewportBy={{ top: 600, bottom: 400 }}
      startReached={() => hasOlder && onLoadOlder()}
      computeItemKey={(_, item) => item.key}
      itemContent={(_, item) => <Row item={item} running={running} onEdit={onEdit} editable={item.kind === "user" && item.message.id === lastUserId} />}
      components={{ Footer: () => <div className="timeline-footer">{footer}</div>, Header: () => (hasOlder ? <div className="timeline-header faint">Loading earlier messages…</div> : null) }}
    />
  );
}

/**
 * Virtuoso keeps the reader's place when rows are prepended if firstItemIndex falls by exactly
 * the number of rows added before the previous first row.
 */
function usePrependIndex(items: readonly TimelineItem[]): number {
  const previous = useRef<{ firstKey: string | undefined; index: number }>({ firstKey: undefined, index: FIRST_INDEX_BASE });
  const { firstKey, index } = previous.current;
  const currentFirst = items[0]?.key;
  if (currentFirst !== firstKey) {
    const prepended = firstKey === undefined ? 0 : items.findIndex((item) => item.key === firstKey);
    previous.current = { firstKey: currentFirst, index: prepended > 0 ? index - prepended : index };
  }
  return previous.current.index;
}

function Row({ item, running, onEdit, editable }: { item: TimelineItem; running: boolean; onEdit(id: number, text: string): void; editable: boolean }) {
  switch (item.kind) {
    case "user":
      return <UserRow message={item.message} onEdit={onEdit} editable={editable || !running} />;
    case "assistant":
      return <AssistantRow blocks={item.blocks} running={false} />;
    case "live":
      return <LiveRow blocks={item.blocks} running={running} />;
  }
}
