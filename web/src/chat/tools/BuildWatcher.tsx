/**
 * The live build log of the chat's workspace while create_workspace or start_workspace runs:
 * the chat is linked to its workspace when the build starts, so the watcher follows the chat's
 * workspace to its latest build and polls that build's log until it finishes.
 */
import { useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ChatMessagePart } from "../../../../src/sdk/schemas/index.js";
import { api, queryKeys } from "../../app/api.js";
import { useCurrentChat } from "../ChatContext.js";
import { stringField } from "./tool-data.js";

/** How often a running build's log and state are re-read (builds take seconds to minutes). */
const BUILD_POLL_MS = 1000;

export function BuildWatcher({ running, result }: { running: boolean; result: ChatMessagePart | undefined }) {
  const chat = useCurrentChat();
  const queryClient = useQueryClient();
  const workspaceId = chat?.workspace_id ?? null;

  // Until the chat names its workspace, re-read the chat itself.
  useEffect(() => {
    if (!running || workspaceId || !chat) return;
    const timer = setInterval(() => void queryClient.invalidateQueries({ queryKey: queryKeys.chat(chat.id) }), BUILD_POLL_MS);
    return () => clearInterval(timer);
  }, [running, workspaceId, chat, queryClient]);

  const workspace = useQuery({
    queryKey: ["workspace", workspaceId],
    queryFn: () => api.workspace(workspaceId ?? ""),
    enabled: workspaceId !== null,
    refetchInterval: running ? BUILD_POLL_MS : false,
  });
  const buildId = workspace.data?.latest_build?.id;
  const build = useQuery({
    queryKey: ["build", buildId],
    queryFn: () => api.build(buildId ?? ""),
    enabled: buildId !== undefined,
    refetchInterval: running ? BUILD_POLL_MS : false,
  });
  const logRef = useRef<HTMLPreElement>(null);
  const log = build.data?.log ?? "";
  useEffect(() => {
    const element = logRef.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [log]);

  const agentStatus = stringField(result?.result, "agent_status");
  const status = workspace.data ? `${workspace.data.name} · ${workspace.data.latest_build?.status ?? "no build"}` : running ? "Waiting for the build to start…" : null;
  return (
    <div className="build-watcher">
      {status ? (
        <div className="build-status">
          {running ? <span className="spinner" aria-hidden /> : null}
          <span>{status}</span>
          {agentStatus ? <span className="faint"> · agent {agentStatus}</span> : null}
        </div>
      ) : null}
      {log ? (
        <pre ref={logRef} className="build-log" aria-label="Build log">
          {log}
        </pre>
      ) : null}
    </div>
  );
}
