/**
 * API tokens for scripts and `chatd chat`: a new token's key is shown once, in a dialog with a
 * copy button, and never again (the list has no secrets).
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as Dialog from "@radix-ui/react-dialog";
import { Copy, KeyRound, Trash2 } from "lucide-react";
import { api, queryKeys } from "../app/api.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { relativeTime } from "../ui/time.js";

export function ApiTokens() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: queryKeys.keys, queryFn: () => api.listKeys() });
  const [created, setCreated] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: () => api.createKey(),
    onSuccess: async (key) => {
      setCreated(key.key);
      setCopied(false);
      await queryClient.invalidateQueries({ queryKey: queryKeys.keys });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteKey(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.keys }),
  });
  return (
    <section className="settings-section" aria-labelledby="tokens-title">
      <div className="section-head">
        <div>
          <h2 id="tokens-title">API tokens</h2>
          <p className="muted">
            For scripts, CI and the terminal: <code>CHATD_TOKEN=&lt;token&gt; npx chatd chat "…"</code>. A token acts as you.
          </p>
        </div>
        <button type="button" className="btn btn-primary" onClick={() => create.mutate()} disabled={create.isPending}>
          <KeyRound size={14} aria-hidden /> Create token
        </button>
      </div>
      {create.isError ? <ErrorNotice error={create.error} /> : null}
      {remove.isError ? <ErrorNotice error={remove.error} /> : null}
      {keys.isError ? <ErrorNotice error={keys.error} /> : null}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.id}>
              <td>
                <code>{key.id}</code>
              </td>
              <td>{relativeTime(key.created_at)}</td>
              <td>{key.last_used_at ? relativeTime(key.last_used_at) : <span className="faint">never</span>}</td>
              <td className="table-actions">
                <button type="button" className="btn btn-ghost btn-sm btn-danger" onClick={() => remove.mutate(key.id)} aria-label={`Delete token ${key.id}`}>
                  <Trash2 size={13} aria-hidden /> Delete
                </button>
              </td>
            </tr>
          ))}
          {keys.isSuccess && keys.data.length === 0 ? (
            <tr>
              <td colSpan={4} className="faint table-empty">
                No tokens yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Dialog.Root open={created !== null} onOpenChange={(open) => !open && setCreated(null)}>
        <Dialog.Portal>
          <Dialog.Overlay className="dialog-overlay" />
          <Dialog.Content className="dialog-content">
            <Dialog.Title>Your new API token</Dialog.Title>
            <Dialog.Description>Copy it now: it is shown only once.</Dialog.Description>
            <div className="token-reveal">
              <code data-testid="new-token">{created}</code>
              <button
                type="button"
                className="btn btn-sm"
                onClick={() => {
                  if (created) void navigator.clipboard?.writeText(created).then(() => setCopied(true));
                }}
              >
                <Copy size={13} aria-hidden /> {copied ? "Copied" : "Copy"}
              </button>
            </div>
            <div className="dialog-actions">
              <Dialog.Close className="btn btn-primary">Done</Dialog.Close>
            </div>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
    </section>
  );
}
