/** One icon per chat status (behavior.md: UI treats `completed` like `waiting`). */
import { CircleAlert, CircleCheck, CircleDashed, CirclePause, LoaderCircle } from "lucide-react";
import type { ChatResponse } from "../../../src/sdk/schemas/index.js";

type Status = ChatResponse["status"];

const LABELS: Record<Status, string> = {
  pending: "Pending",
  running: "Running",
  waiting: "Waiting for you",
  completed: "Waiting for you",
  paused: "Paused",
  error: "Error",
};

export function statusLabel(status: Status): string {
  return LABELS[status];
}

export function StatusIcon({ status, size = 14 }: { status: Status; size?: number }) {
  const label = LABELS[status];
  const common = { size, "aria-label": label, role: "img" } as const;
  switch (status) {
    case "running":
      return <LoaderCircle {...common} className="status-icon status-running" />;
    case "pending":
      return <CircleDashed {...common} className="status-icon status-pending" />;
    case "error":
      return <CircleAlert {...common} className="status-icon status-error" />;
    case "paused":
      return <CirclePause {...common} className="status-icon status-waiting" />;
    case "waiting":
    case "completed":
      return <CircleCheck {...common} className="status-icon status-waiting" />;
  }
}
