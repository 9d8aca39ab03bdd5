/**
 * The caller's chats for the sidebar: an infinite query paged by the `after_id` cursor, kept live
 * by one `/chats/watch` follower (the SDK's, shared with the CLI). Every watch event is applied
 * to both lists' caches and to the chat's own cache; after a reconnect the lists are refetched,
 * since events sent during the gap are lost.
 */
import { useEffect } from "react";
import { useInfiniteQuery, useQueryClient, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import { followWatch } from "../../../src/sdk/follow.js";
import type { ChatResponse, ChatWatchEvent } from "../../../src/sdk/schemas/index.js";
import { api, queryKeys } from "../app/api.js";
import { browserSocket } from "../app/socket.js";
import { applyWatchEvent, toSidebarChat, type SidebarChat } from "./chat-list.js";

/** Rows per page: enough to fill a tall sidebar, small enough to answer fast. */
export const CHAT_PAGE_SIZE = 40;

type ChatPages = InfiniteData<SidebarChat[], string | undefined>;

export function useChatList(archived: boolean) {
  return useInfiniteQuery({
    queryKey: queryKeys.chats(archived),
    queryFn: async ({ pageParam }) =>
      (await api.listChats({ archived, limit: CHAT_PAGE_SIZE, ...(pageParam ? { afterId: pageParam } : {}) })).map(toSidebarChat),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.length < CHAT_PAGE_SIZE ? undefined : last[last.length - 1]?.id),
  });
}

export function applyEventToCaches(queryClient: QueryClient, event: ChatWatchEvent): void {
  for (const archived of [false, true]) {
    queryClient.setQueryData<ChatPages>(queryKeys.chats(archived), (data) =>
      data ? { ...data, pages: applyWatchEvent(data.pages, event, archived) } : data,
    );
  }
  queryClient.setQueryData<ChatResponse>(queryKeys.chat(event.chat.id), (chat) =>
    chat
      ? {
          ...chat,
          title: event.chat.title,
          status: event.chat.status,
          updated_at: event.chat.updated_at,
          archived: event.kind === "deleted" ? true : event.kind === "created" ? false : chat.archived,
          ...(event.chat.diff_status ? { diff_status: event.chat.diff_status } : {}),
        }
      : chat,
  );
}

/** Keeps the caches live while mounted (once, in the app shell). */
export function useChatWatch(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const controller = new AbortController();
    followWatch(api, {
      connect: browserSocket,
      signal: controller.signal,
      onOpen: () => void queryClient.invalidateQueries({ queryKey: queryKeys.allChatLists }),
      onEvent: (event) => applyEventToCaches(queryClient, event),
    }).catch(() => undefined);
    return () => controller.abort();
  }, [queryClient]);
}
