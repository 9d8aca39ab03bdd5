/** The card left where the conversation was compacted: what was summarized, and the summary. */
import { useState } from "react";
import { Scissors } from "lucide-react";
import type { ChatMessagePart } from "../../../../src/sdk/schemas/index.js";
import { numberField, stringField } from "./tool-data.js";
import { Markdown } from "../Markdown.js";

export function SummaryCard({ result }: { result: ChatMessagePart | undefined }) {
  const [open, setOpen] = useState(false);
  const data = result?.result;
  const summary = stringField(data, "summary");
  const usage = numberField(data, "usage_percent");
  const tokens = numberField(data, "context_tokens");
  const limit = numberField(data, "context_limit_tokens");
  return (
    <div className="summary-card">
      <button type="button" className="summary-header" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Scissors size={14} aria-hidden />
        <span>
          Conversation summarized
          {usage !== undefined ? <span className="faint"> · context was {Math.round(usage)}% full</span> : null}
          {tokens !== undefined && limit !== undefined ? (
            <span className="faint">
              {" "}
              ({tokens.toLocaleString()} of {limit.toLocaleString()} tokens)
            </span>
          ) : null}
        </span>
      </button>
      {open && summary ? (
        <div className="summary-body">
          <Markdown text={summary} />
        </div>
      ) : null}
      {!result ? <div className="faint summary-body">Summarizing…</div> : null}
    </div>
  );
}
