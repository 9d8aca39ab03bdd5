/**
 * Messages queued while the agent is busy (FIFO; the server sends the whole queue on every
 * change): Send now promotes one, Remove deletes it, Edit removes it and puts its text back in a
 * small editor that queues the edited text.
 */
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ArrowUpToLine, Pencil, Trash2 } from "lucide-react";
import type { ChatQueuedMessageResponse } from "../../../src/sdk/schemas/index.js";
import { api } from "../app/api.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";

function queuedText(message: ChatQueuedMessageResponse): string {
  return message.content
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n");
}

export function QueueList({ chatId, queue }: { chatId: string; queue: readonly ChatQueuedMessageResponse[] }) {
  const [editing, setEditing] = useState<{ id: number; text: string } | null>(null);
  const promote = useMutation({ mutationFn: (id: number) => api.promoteQueued(chatId, id) });
  const remove = useMutation({ mutationFn: (id: number) => api.deleteQueued(chatId, id) });
  const requeue = useMutation({
    mutationFn: async ({ id, text }: { id: number; text: string }) => {
      await api.deleteQueued(chatId, id);
      await api.sendMessage(chatId, { content: [{ type: "text", text }] });
    },
    onSuccess: () => setEditing(null),
  });
  if (queue.length === 0) return null;
  const error = promote.error ?? remove.error ?? requeue.error;
  return (
    <section className="queue" aria-label="Queued messages">
      <div className="queue-title faint">Queued ({queue.length})</div>
      <ul role="list">
        {queue.map((message) => (
          <li key={message.id} className="queue-item">
            {editing?.id === message.id ? (
              <form
                className="queue-edit"
                onSubmit={(event) => {
                  event.preventDefault();
                  if (editing.text.trim()) requeue.mutate(editing);
                }}
              >
                <label className="sr-only" htmlFor={`queue-edit-${message.id}`}>
                  Edit queued message
                </label>
                <input id={`queue-edit-${message.id}`} className="input" value={editing.text} autoFocus onChange={(event) => setEditing({ id: message.id, text: event.target.value })} />
                <button type="submit" className="btn btn-sm btn-primary" disabled={requeue.isPending}>
                  Save
                </button>
                <button type="button" className="btn btn-sm" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <span className="queue-text">{queuedText(message) || "(attachment)"}</span>
                <span className="queue-actions">
                  <button type="button" className="btn btn-ghost btn-sm" onClick={() => setEditing({ id: message.id, text: queuedText(message) })} aria-label="Edit queued message">
                    <Pencil size={12} aria-hidden /> Edit
                  </button>
                  <button type="button" className="btn btn-ghost btn-sm" onClick={() => remove.mutate(message.id)} aria-label="Remove queued message">
                    <Trash2 size={12} aria-hidden /> Remove
                  </button>
                  <button type="button" className="btn btn-sm" onClick={() => promote.mutate(message.id)} aria-label="Send queued message now">
                    <ArrowUpToLine size={12} aria-hidden /> Send now
                  </button>
                </span>
              </>
            )}
          </li>
        ))}
      </ul>
      {error ? <ErrorNotice error={error} /> : null}
    </section>
  );
}
