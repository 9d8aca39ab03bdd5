/**
 * One card per tool call: a header (icon, what the call does, its state) that expands to the
 * tool's own body. Each known tool has a renderer in `renderers`; unknown and MCP tools get the
 * generic JSON card. Arguments render while they stream (partial JSON shown as text).
 */
import { useState, type ReactNode } from "react";
import { ChevronRight, CircleAlert, Check } from "lucide-react";
import type { RenderBlock } from "../timeline-items.js";
import { renderers, type ToolView } from "./renderers.js";
import { parseArgs, resultIsError } from "./tool-data.js";

type ToolBlock = Extract<RenderBlock, { kind: "tool" }>;

export function ToolCard({ block, running }: { block: ToolBlock; running: boolean }) {
  const view: ToolView = { toolName: block.toolName, args: block.args ?? parseArgs(block.argsText), argsText: block.argsText, result: block.result, running };
  const renderer = renderers[block.toolName] ?? renderers.generic;
  if (!renderer) return null;
  const rendered = renderer(view);
  if (rendered.bare) return <div className="tool-bare">{rendered.body}</div>;
  return <ToolFrame view={view} summary={rendered.summary} icon={rendered.icon} body={rendered.body} defaultOpen={rendered.defaultOpen ?? false} />;
}

function ToolFrame(props: { view: ToolView; summary: ReactNode; icon: ReactNode; body: ReactNode; defaultOpen: boolean }) {
  const { view } = props;
  const [open, setOpen] = useState(props.defaultOpen);
  const failed = view.result ? resultIsError(view.result) : false;
  const pending = !view.result;
  return (
    <div className={`tool-card ${failed ? "tool-failed" : ""}`} data-tool={view.toolName}>
      <button type="button" className="tool-header" aria-expanded={open} onClick={() => setOpen(!open)}>
        <ChevronRight size={14} className={open ? "rotated" : ""} aria-hidden />
        <span className="tool-icon" aria-hidden>
          {props.icon}
        </span>
        <span className="tool-summary">{props.summary}</span>
        <span className="tool-state">
          {pending ? (
            view.running ? (
              <span className="spinner" aria-label="Running" />
            ) : (
              <span className="faint">interrupted</span>
            )
          ) : failed ? (
            <CircleAlert size={14} className="status-error" aria-label="Failed" />
          ) : (
            <Check size={14} className="status-ok" aria-label="Done" />
          )}
        </span>
      </button>
      {open ? <div className="tool-body">{props.body}</div> : null}
    </div>
  );
}
