/**
 * Wires one chat's timeline: the newest page of messages from the API, then the SDK's stream
 * follower from that page's last id (exact resume on reconnect is the follower's job), each event
 * folded through the pure reducer. Older pages load on demand. When the stream re-sends old
 * history (an edit), the newest page is reloaded once the re-sending stops.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { followChat } from "../../../src/sdk/follow.js";
import type { ChatMessageResponse, ChatQueuedMessageResponse, StreamEvent } from "../../../src/sdk/schemas/index.js";
import { api } from "../app/api.js";
import { browserSocket } from "../app/socket.js";
import { applyStreamEvent, emptyTimeline, mergeMessages, replaceHistory, type TimelineState } from "./timeline-state.js";

/** Newest messages fetched when a chat opens, and per older page (the API allows 1-200). */
export const MESSAGE_PAGE_SIZE = 100;
/** How long the stream must stay quiet after re-sending history before the page is reloaded. */
const REPLAY_SETTLE_MS = 150;

type Action =
  | { type: "events"; events: StreamEvent[] }
  | { type: "history"; messages: ChatMessageResponse[]; queue: ChatQueuedMessageResponse[] }
  | { type: "older"; messages: ChatMessageResponse[] }
  | { type: "reset" };

function reducer(state: TimelineState, action: Action): TimelineState {
  switch (action.type) {
    case "events":
      return action.events.reduce(applyStreamEvent, state);
    case "history":
      return replaceHistory(state, action.messages, action.queue);
    case "older":
      return { ...state, messages: mergeMessages(state.messages, action.messages) };
    case "reset":
      return emptyTimeline;
  }
}

export interface ChatTimeline {
  state: TimelineState;
  loading: boolean;
  loadError: unknown;
  hasOlder: boolean;
  loadOlder(): void;
  reconnecting: boolean;
  reload(): Promise<void>;
}

export function useChatTimeline(chatId: string): ChatTimeline {
  const [state, dispatch] = useReducer(reducer, emptyTimeline);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [hasOlder, setHasOlder] = useState(false);
  const [reconnecting, setReconnecting] = useState(false);
  const loadingOlder = useRef(false);
  const oldestId = state.messages[0]?.id;

  const reload = useCallback(async () => {
    const page = await api.messages(chatId, { limit: MESSAGE_PAGE_SIZE });
    dispatch({ type: "history", messages: page.messages, queue: page.queued_messages });
    setHasOlder(page.has_more);
  }, [chatId]);

  useEffect(() => {
    const controller = new AbortController();
    // At most one render per frame: a model streams 50-200 tokens a second, a screen shows 60
    // frames, so folding each frame's events in one dispatch cuts the renders (and the layouts
    // they force) several times over without adding visible delay. A hidden tab renders nothing
    // until it is shown again, then catches up in one go.
    let pending: StreamEvent[] = [];
    const flush = () => {
      const events = pending;
      pending = [];
      if (events.length > 0 && !controller.signal.aborted) dispatch({ type: "events", events });
    };
    dispatch({ type: "reset" });
    setLoading(true);
    setLoadError(null);
    setReconnecting(false);
    (async () => {
      const page = await api.messages(chatId, { limit: MESSAGE_PAGE_SIZE });
      if (controller.signal.aborted) return;
      dispatch({ type: "history", messages: page.messages, queue: page.queued_messages });
      setHasOlder(page.has_more);
      setLoading(false);
      const newest = page.messages.reduce((max, message) => Math.max(max, message.id), 0);
      await followChat(api, chatId, {
        connect: browserSocket,
        signal: controller.signal,
        afterId: newest,
        onReconnect: () => setReconnecting(true),
        onEvent: (event) => {
          // Every connection opens with a status event, so any event means the socket is back.
          setReconnecting(false);
          if (pending.length === 0) requestAnimationFrame(flush);
          pending.push(event);
        },
      });
    })().catch((error: unknown) => {
      if (controller.signal.aborted) return;
      setLoading(false);
      setLoadError(error);
    });
    return () => controller.abort();
  }, [chatId]);

  useEffect(() => {
    if (state.replays === 0) return;
    const timer = setTimeout(() => void reload().catch(() => undefined), REPLAY_SETTLE_MS);
    return () => clearTimeout(timer);
  }, [state.replays, reload]);

  const loadOlder = useCallback(() => {
    if (!hasOlder || loadingOlder.current || oldestId === undefined) return;
    loadingOlder.current = true;
    api
      .messages(chatId, { beforeId: oldestId, limit: MESSAGE_PAGE_SIZE })
      .then((page) => {
        dispatch({ type: "older", messages: page.messages });
        setHasOlder(page.has_more);
      })
      .catch(() => undefined)
      .finally(() => {
        loadingOlder.current = false;
      });
  }, [chatId, hasOlder, oldestId]);

  return { state, loading, loadError, hasOlder, loadOlder, reconnecting, reload };
}
