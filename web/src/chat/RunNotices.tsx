/** Under the last message: the agent's state, a pending retry with its countdown, or the error. */
import { useEffect, useState } from "react";
import { CircleAlert, RotateCw } from "lucide-react";
import type { TimelineState, ChatStatus } from "./timeline-state.js";

export function RunNotices({ state, status, lastError }: { state: TimelineState; status: ChatStatus | null; lastError: string | null }) {
  const error = state.error ?? (status === "error" ? lastError : null);
  return (
    <div className="run-notices">
      {state.retry ? <RetryNotice retryingAt={state.retry.retryingAt} error={state.retry.error} attempt={state.retry.attempt} /> : null}
      {error && status === "error" ? (
        <div className="alert alert-error run-error" role="alert">
          <CircleAlert size={14} aria-hidden /> {error}
        </div>
      ) : null}
      {status === "pending" && !state.retry ? <div className="run-status faint"><span className="spinner" aria-hidden /> Waiting for a worker…</div> : null}
      {status === "running" && state.live.blocks.length === 0 && !state.retry ? (
        <div className="run-status faint">
          <span className="spinner" aria-hidden /> Working…
        </div>
      ) : null}
    </div>
  );
}

function RetryNotice({ retryingAt, error, attempt }: { retryingAt: string; error: string; attempt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.ceil((new Date(retryingAt).getTime() - now) / 1000));
  return (
    <div className="alert alert-warning run-retry" role="status">
      <RotateCw size={14} aria-hidden /> {seconds > 0 ? `Retrying in ${seconds} s` : "Retrying now"}: {error}
      <span className="faint"> (attempt {attempt})</span>
    </div>
  );
}
