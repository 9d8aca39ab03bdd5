/**
 * The chat's rows in a virtualized list (react-virtuoso): only rows near the viewport are in the
 * DOM, so a chat of thousands of messages opens as fast as a short one. It opens at the bottom,
 * follows new output while the reader is at the bottom (and stays put when they scrolled up), and
 * loads older pages when the top is reached.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";
import { buildLiveItems, buildTimelineItems, type TimelineItem } from "./timeline-items.js";
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
  // Stored rows are rebuilt when messages change, live rows on every streamed frame.
  const storedItems = useMemo(() => buildTimelineItems(state.messages), [state.messages]);
  const liveItems = useMemo(() => buildLiveItems(state.live.blocks), [state.live.blocks]);
  const items = useMemo(() => [...storedItems, ...liveItems], [storedItems, liveItems]);
  const running = state.status === "running" || state.status === "pending";
  const virtuoso = useRef<VirtuosoHandle>(null);
  const firstMessageIndex = usePrependIndex(items);
  const stick = useStickToBottom(virtuoso);
  const lastKey = items[items.length - 1]?.key;
  const lastUserId = useMemo(() => [...state.messages].reverse().find((message) => message.role === "user")?.id, [state.messages]);

  return (
    <Virtuoso
      ref={virtuoso}
      className="timeline"
      data={items}
      firstItemIndex={firstMessageIndex}
      initialTopMostItemIndex={{ index: "LAST", align: "end" }}
      alignToBottom
      followOutput={(atBottom) => (atBottom ? "auto" : false)}
      atBottomThreshold={80}
      atBottomStateChange={stick.onAtBottom}
      totalListHeightChanged={stick.onHeightChanged}
      scrollerRef={stick.scrollerRef}
      increaseViewportBy={{ top: 600, bottom: 400 }}
      startReached={() => hasOlder && onLoadOlder()}
      computeItemKey={(_, item) => item.key}
      itemContent={(_, item) => <Row item={item} running={running} last={item.key === lastKey} onEdit={onEdit} editable={item.kind === "user" && item.message.id === lastUserId} />}
      components={{ Footer: () => <div className="timeline-footer">{footer}</div>, Header: () => (hasOlder ? <div className="timeline-header faint">Loading earlier messages…</div> : null) }}
    />
  );
}

/** Keys that scroll the timeline up: pressing one means the reader is leaving the bottom. */
const SCROLL_UP_KEYS = new Set(["ArrowUp", "PageUp", "Home"]);

/**
 * Keeps the list pinned to its end until the reader scrolls up. Virtuoso's first position uses
 * estimated heights, and rows grow after mount (highlighting, images), so the opening position
 * can land short of the end; re-pinning on every height change fixes that. Only the reader's own
 * wheel, touch, scrollbar drag or keys unpin it (a height change alone never does), and reaching
 * the bottom pins it again.
 */
function useStickToBottom(virtuoso: RefObject<VirtuosoHandle | null>) {
  const pinned = useRef(true);
  const [scroller, setScroller] = useState<HTMLElement | null>(null);
  useEffect(() => {
    if (!scroller) return;
    const unpin = () => {
      pinned.current = false;
    };
    const onWheel = (event: WheelEvent) => {
      if (event.deltaY < 0) unpin();
    };
    const onKey = (event: KeyboardEvent) => {
      if (SCROLL_UP_KEYS.has(event.key)) unpin();
    };
    // A press right of the content box is on the scrollbar.
    const onPointerDown = (event: PointerEvent) => {
      if (event.offsetX > scroller.clientWidth) unpin();
    };
    scroller.addEventListener("wheel", onWheel, { passive: true });
    scroller.addEventListener("touchmove", unpin, { passive: true });
    scroller.addEventListener("keydown", onKey);
    scroller.addEventListener("pointerdown", onPointerDown);
    return () => {
      scroller.removeEventListener("wheel", onWheel);
      scroller.removeEventListener("touchmove", unpin);
      scroller.removeEventListener("keydown", onKey);
      scroller.removeEventListener("pointerdown", onPointerDown);
    };
  }, [scroller]);
  const onAtBottom = useCallback((atBottom: boolean) => {
    if (atBottom) pinned.current = true;
  }, []);
  const onHeightChanged = useCallback(() => {
    // To the very end, past the last row: the footer holds the run notices.
    if (pinned.current) virtuoso.current?.scrollTo({ top: Number.MAX_SAFE_INTEGER });
  }, [virtuoso]);
  const scrollerRef = useCallback((element: HTMLElement | Window | null) => {
    setScroller(element instanceof HTMLElement ? element : null);
  }, []);
  return { onAtBottom, onHeightChanged, scrollerRef };
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

/** `last`: the newest row, the only one that can be mid-stream (a long answer spans several rows). */
function Row({ item, running, last, onEdit, editable }: { item: TimelineItem; running: boolean; last: boolean; onEdit(id: number, text: string): void; editable: boolean }) {
  switch (item.kind) {
    case "user":
      return <UserRow message={item.message} onEdit={onEdit} editable={editable || !running} />;
    case "assistant":
      return <AssistantRow blocks={item.blocks} running={false} continued={item.continued === true} />;
    case "live":
      return <LiveRow blocks={item.blocks} running={running && last} continued={item.continued === true} />;
  }
}
