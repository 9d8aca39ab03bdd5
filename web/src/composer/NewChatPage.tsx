/**
 * "New agent": the empty state with the prompt box, the model picker (model configs; a provider
 * without a working key is shown disabled with the reason) and the workspace picker (the caller's
 * workspaces and those shared with them for use, or none: the agent can then create its own).
 */
import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { Bot } from "lucide-react";
import type { ChatInputPart } from "../../../src/sdk/schemas/index.js";
import { api, queryKeys } from "../app/api.js";
import { useMe } from "../auth/useMe.js";
import { Composer } from "./Composer.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { modelOptions } from "./model-options.js";

export function NewChatPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const me = useMe();
  const configs = useQuery({ queryKey: ["model-configs"], queryFn: () => api.modelConfigs() });
  const models = useQuery({ queryKey: queryKeys.models, queryFn: () => api.chatModels() });
  const workspaces = useQuery({ queryKey: queryKeys.usableWorkspaces, queryFn: () => api.workspaces({ usable: true }) });
  const options = useMemo(() => modelOptions(configs.data ?? [], models.data?.providers ?? []), [configs.data, models.data]);
  const [modelId, setModelId] = useState("");
  const [workspaceId, setWorkspaceId] = useState("");
  useEffect(() => {
    if (modelId || options.length === 0) return;
    const preferred = options.find((option) => option.isDefault && !option.disabledReason) ?? options.find((option) => !option.disabledReason);
    if (preferred) setModelId(preferred.id);
  }, [options, modelId]);

  const create = useMutation({
    mutationFn: (content: ChatInputPart[]) =>
      api.createChat({ content, ...(modelId ? { model_config_id: modelId } : {}), ...(workspaceId ? { workspace_id: workspaceId } : {}) }),
    onSuccess: (chat) => {
      queryClient.setQueryData(queryKeys.chat(chat.id), chat);
      navigate(`/agents/${chat.id}`);
    },
  });
  const usable = (workspaces.data ?? []).filter((workspace) => workspace.status !== "deleted" && workspace.status !== "deleting");
  const noModels = configs.isSuccess && options.length === 0;

  return (
    <main className="new-chat" aria-labelledby="new-chat-title">
      <div className="new-chat-inner">
        <div className="new-chat-hero">
          <Bot size={28} aria-hidden className="faint" />
          <h1 id="new-chat-title">What should the agent work on{me.data?.name ? `, ${me.data.name.split(" ")[0]}` : ""}?</h1>
          <p className="muted">Describe a task. The agent works in a workspace with a shell, files and git, and keeps going when you close this tab.</p>
        </div>
        {noModels ? (
          <div className="alert alert-warning" role="status">
            No model is configured yet. An admin adds a provider and a model config (see the README: POST /api/experimental/chats/providers and /model-configs) before agents can run.
          </div>
        ) : null}
        <Composer
          placeholder="Ask the agent to fix a bug, write a feature, review a change…"
          autoFocus
          disabled={noModels}
          onSend={(content) => create.mutateAsync(content)}
          toolbar={
            <>
              {options.length > 0 ? (
              <label className="picker">
                <span className="sr-only">Model</span>
                <select className="picker-select" value={modelId} onChange={(event) => setModelId(event.target.value)} aria-label="Model">
                  {options.map((option) => (
                    <option key={option.id} value={option.id} disabled={option.disabledReason !== undefined}>
                      {option.label}
                      {option.disabledReason ? ` (${option.disabledReason})` : ""}
                    </option>
                  ))}
                </select>
              </label>
              ) : null}
              <label className="picker">
                <span className="sr-only">Workspace</span>
                <select className="picker-select" value={workspaceId} onChange={(event) => setWorkspaceId(event.target.value)} aria-label="Workspace">
                  <option value="">No workspace</option>
                  {usable.map((workspace) => (
                    <option key={workspace.id} value={workspace.id}>
                      {workspace.name}
                      {workspace.owner_id !== me.data?.id ? ` (${workspace.owner_name})` : ""} · {workspace.status}
                    </option>
                  ))}
                </select>
              </label>
            </>
          }
        />
        {create.isError ? <ErrorNotice error={create.error} /> : null}
        <p className="new-chat-hint faint">
          <span className="kbd">Enter</span> to send · <span className="kbd">Shift</span>+<span className="kbd">Enter</span> for a new line · paste or drop images
        </p>
      </div>
    </main>
  );
}
