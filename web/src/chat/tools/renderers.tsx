/**
 * What each tool's card shows. A renderer gets the call's (possibly streaming) arguments and its
 * result, and returns a one-line summary, an icon and a body; `bare` renderers (the compaction
 * summary) draw their own frame.
 */
import type { ReactNode } from "react";
import { Box, FileCode, FilePen, FileText, Hammer, ListTree, Play, Scissors, Terminal, Wrench } from "lucide-react";
import type { ChatMessagePart } from "../../../../src/sdk/schemas/index.js";
import { errorText, field, isRecord, numberField, prettyJson, stringField, streamingString } from "./tool-data.js";
import { ExecuteOutput } from "./ExecuteOutput.js";
import { EditDiff } from "./EditDiff.js";
import { BuildWatcher } from "./BuildWatcher.js";
import { SummaryCard } from "./SummaryCard.js";
import { ImageResult } from "./ImageResult.js";

export interface ToolView {
  toolName: string;
  args: unknown;
  argsText: string;
  result: ChatMessagePart | undefined;
  running: boolean;
}

export interface RenderedTool {
  summary: ReactNode;
  icon: ReactNode;
  body: ReactNode;
  defaultOpen?: boolean;
  bare?: boolean;
}

type Renderer = (view: ToolView) => RenderedTool;

function ErrorLine({ result }: { result: ChatMessagePart | undefined }) {
  const error = errorText(result);
  return error ? <pre className="tool-error">{error}</pre> : null;
}

function Code({ children }: { children: string }) {
  return <code className="inline-code">{children}</code>;
}

const execute: Renderer = (view) => {
  const command = streamingString(view.args, view.argsText, "command") ?? "";
  return {
    icon: <Terminal size={14} />,
    summary: (
      <>
        <span className="tool-verb">Ran</span> <Code>{command || "…"}</Code>
      </>
    ),
    body: <ExecuteOutput command={command} result={view.result} />,
    defaultOpen: true,
  };
};

const processOutput: Renderer = (view) => ({
  icon: <Terminal size={14} />,
  summary: (
    <>
      <span className="tool-verb">Read output of</span> <Code>{stringField(view.args, "process_id") ?? "process"}</Code>
    </>
  ),
  body: <ExecuteOutput command="" result={view.result} />,
});

const readFile: Renderer = (view) => {
  const path = streamingString(view.args, view.argsText, "path") ?? "";
  const lines = numberField(view.result?.result, "lines_read");
  const total = numberField(view.result?.result, "total_lines");
  return {
    icon: <FileText size={14} />,
    summary: (
      <>
        <span className="tool-verb">Read</span> <Code>{path || "…"}</Code>
        {lines !== undefined ? <span className="faint"> · {lines === total ? `${lines} lines` : `${lines} of ${total ?? "?"} lines`}</span> : null}
      </>
    ),
    body: (
      <>
        <ErrorLine result={view.result} />
        {stringField(view.result?.result, "content") ? <pre className="tool-pre">{stringField(view.result?.result, "content")}</pre> : null}
      </>
    ),
  };
};

const writeFile: Renderer = (view) => {
  const path = streamingString(view.args, view.argsText, "path") ?? "";
  const content = streamingString(view.args, view.argsText, "content") ?? "";
  return {
    icon: <FilePen size={14} />,
    summary: (
      <>
        <span className="tool-verb">Wrote</span> <Code>{path || "…"}</Code>
        <span className="faint"> · {content.split("\n").length} lines</span>
      </>
    ),
    body: (
      <>
        <ErrorLine result={view.result} />
        <pre className="tool-pre diff-add-all">{content}</pre>
      </>
    ),
  };
};

const editFiles: Renderer = (view) => {
  const files = field(view.args, "files");
  const paths = Array.isArray(files) ? files.map((file) => stringField(file, "path") ?? "").filter(Boolean) : [];
  return {
    icon: <FileCode size={14} />,
    summary: (
      <>
        <span className="tool-verb">Edited</span> {paths.length > 0 ? paths.map((path) => <Code key={path}>{path}</Code>) : <Code>…</Code>}
      </>
    ),
    body: (
      <>
        <ErrorLine result={view.result} />
        <EditDiff files={files} />
      </>
    ),
    defaultOpen: true,
  };
};

const createWorkspace: Renderer = (view) => {
  const name = stringField(view.result?.result, "workspace_name") ?? stringField(view.args, "name");
  return {
    icon: <Box size={14} />,
    summary: (
      <>
        <span className="tool-verb">{view.result ? "Created workspace" : "Creating workspace"}</span> {name ? <Code>{name}</Code> : null}
      </>
    ),
    body: (
      <>
        <ErrorLine result={view.result} />
        <BuildWatcher running={view.running && !view.result} result={view.result} />
      </>
    ),
    defaultOpen: true,
  };
};

const startWorkspace: Renderer = (view) => ({
  icon: <Play size={14} />,
  summary: <span className="tool-verb">{view.result ? "Started the workspace" : "Starting the workspace"}</span>,
  body: (
    <>
      <ErrorLine result={view.result} />
      <BuildWatcher running={view.running && !view.result} result={view.result} />
    </>
  ),
});

const listTemplates: Renderer = (view) => ({
  icon: <ListTree size={14} />,
  summary: <span className="tool-verb">Listed templates</span>,
  body: <GenericBody view={view} />,
});

const compaction: Renderer = (view) => ({ icon: <Scissors size={14} />, summary: "Summarized", body: <SummaryCard result={view.result} />, bare: true });

function GenericBody({ view }: { view: ToolView }) {
  const image = isRecord(view.result?.result) && typeof view.result?.result.data === "string" ? view.result.result : undefined;
  return (
    <div className="tool-generic">
      <div className="tool-section-label">Arguments</div>
      <pre className="tool-pre">{view.args === undefined ? view.argsText || "{}" : prettyJson(view.args)}</pre>
      {view.result ? (
        <>
          <div className="tool-section-label">Result</div>
          {image ? <ImageResult data={String(image.data)} mimeType={stringField(image, "mime_type") ?? "image/png"} /> : null}
          <pre className="tool-pre">{prettyJson(view.result.result)}</pre>
        </>
      ) : null}
    </div>
  );
}

const generic: Renderer = (view) => {
  const mcp = view.toolName.includes("__");
  const [server, tool] = mcp ? view.toolName.split("__", 2) : [undefined, view.toolName];
  return {
    icon: mcp ? <Hammer size={14} /> : <Wrench size={14} />,
    summary: (
      <>
        <span className="tool-verb">{tool || "tool"}</span>
        {server ? <span className="faint"> · {server}</span> : null}
      </>
    ),
    body: <GenericBody view={view} />,
  };
};

export const renderers: Record<string, Renderer> = {
  execute,
  process_output: processOutput,
  read_file: readFile,
  write_file: writeFile,
  edit_files: editFiles,
  create_workspace: createWorkspace,
  start_workspace: startWorkspace,
  list_templates: listTemplates,
  chat_summarized: compaction,
  generic,
};
