/**
 * `/agents/<chat id>`: the top bar (title live from the watch, status, cost), the virtualized
 * timeline, retry and error notices in place, a reconnecting banner while the socket is down,
 * the queued messages, and the composer with Stop.
 */
import { useCallback } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Square, WifiOff } from "lucide-react";
import type { ChatInputPart } from "../../../src/sdk/schemas/index.js";
import { api, queryKeys } from "../app/api.js";
import { useChatTimeline } from "./useChatTimeline.js";
import { Timeline } from "./Timeline.js";
import { Composer } from "../composer/Composer.js";
import { QueueList } from "./QueueList.js";
import { ChatTopBar } from "./ChatTopBar.js";
import { RunNotices } from "./RunNotices.js";
import { ChatContext } from "./ChatContext.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { FullPageSpinner } from "../ui/FullPageSpinner.js";

export function ChatPage() {
  const { chatId = "" } = useParams();
  const queryClient = useQueryClient();
  const chat = useQuery({ queryKey: queryKeys.chat(chatId), queryFn: () => api.getChat(chatId) });
  const timeline = useChatTimeline(chatId);
  const { state } = timeline;
  const status = state.status ?? chat.data?.status ?? null;
  const busy = status === "running" || status === "pending";

  const send = useMutation({ mutationFn: (content: ChatInputPart[]) => api.sendMessage(chatId, { content }) });
  const stop = useMutation({ mutationFn: () => api.interrupt(chatId), onSuccess: (updated) => queryClient.setQueryData(queryKeys.chat(chatId), updated) });
  const edit = useMutation({
    mutationFn: ({ id, text }: { id: number; text: string }) => api.editMessage(chatId, id, { content: [{ type: "text", text }] }),
    onSuccess: () => timeline.reload(),
  });
  const onEdit = useCallback((id: number, text: string) => edit.mutate({ id, text }), [edit]);

  if (chat.isPending && timeline.loading) return <FullPageSpinner />;
  const loadError = chat.error ?? timeline.loadError;
  if (loadError) {
    return (
      <main className="empty-page">
        <ErrorNotice error={loadError} />
      </main>
    );
  }

  return (
    <ChatContext.Provider value={chat.data ?? null}>
      <main className="chat-page" aria-label={chat.data?.title ?? "Chat"}>
        <ChatTopBar chat={chat.data} status={status} messages={state.messages} />
        {timeline.reconnecting ? (
          <div className="reconnecting-banner" role="status">
            <WifiOff size={14} aria-hidden /> Connection lost. Reconnecting…
          </div>
        ) : null}
        {timeline.loading ? (
          <div className="timeline timeline-loading" aria-busy="true">
            <FullPageSpinner />
          </div>
        ) : (
          // Mounted only once the newest page is in: the list opens at its last row on mount.
          <Timeline
            key={chatId}
            state={state}
            hasOlder={timeline.hasOlder}
            onLoadOlder={timeline.loadOlder}
            onEdit={onEdit}
            footer={<RunNotices state={state} status={status} lastError={chat.data?.last_error ?? null} />}
          />
        )}
        <div className="chat-bottom">
          {edit.isError ? <ErrorNotice error={edit.error} /> : null}
          {send.isError ? <ErrorNotice error={send.error} /> : null}
          <QueueList chatId={chatId} queue={state.queue} />
          <Composer
            key={chatId}
            placeholder={busy ? "Queue a follow-up message…" : "Reply to the agent…"}
            busy={busy}
            onSend={(content) => send.mutateAsync(content)}
            actions={
              busy ? (
                <button type="button" className="btn btn-sm stop-button" onClick={() => stop.mutate()} disabled={stop.isPending}>
                  <Square size={12} aria-hidden fill="currentColor" /> Stop
                </button>
              ) : null
            }
          />
        </div>
      </main>
    </ChatContext.Provider>
  );
}
