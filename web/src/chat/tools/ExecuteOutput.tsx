/**
 * An execute (or process_output) result: exit code, duration, and the output with the agent's
 * head/tail gap marker ("... [omitted N bytes] ...") drawn as a visible divider.
 */
import type { ChatMessagePart } from "../../../../src/sdk/schemas/index.js";
import { errorText, field, numberField, stringField } from "./tool-data.js";

const OMITTED_MARKER = /\n*\.\.\. \[omitted (\d+) bytes\] \.\.\.\n*/;

export function ExecuteOutput({ command, result }: { command: string; result: ChatMessagePart | undefined }) {
  const data = result?.result;
  const output = stringField(data, "output") ?? "";
  const exitCode = numberField(data, "exit_code");
  const duration = numberField(data, "wall_duration_ms");
  const truncated = field(data, "truncated");
  const omitted = numberField(truncated, "omitted_bytes");
  const note = stringField(data, "note");
  const background = stringField(data, "background_process_id");
  const error = errorText(result);
  const [head, tail] = splitAtMarker(output);
  return (
    <div className="execute">
      {command ? (
        <pre className="execute-command">
          <span className="prompt" aria-hidden>
            ${" "}
          </span>
          {command}
        </pre>
      ) : null}
      {result ? (
        <div className="execute-meta">
          {exitCode !== undefined ? (
            <span className={exitCode === 0 ? "badge badge-ok" : "badge badge-error"}>exit {exitCode}</span>
          ) : null}
          {duration !== undefined ? <span className="faint">{formatDuration(duration)}</span> : null}
          {background ? <span className="faint">background process {background}</span> : null}
          {omitted !== undefined ? <span className="faint">{omitted.toLocaleString()} bytes omitted (head and tail kept)</span> : null}
        </div>
      ) : null}
      {error ? <pre className="tool-error">{error}</pre> : null}
      {output ? (
        <pre className="execute-output">
          {head}
          {tail !== undefined ? (
            <>
              <span className="omitted-marker" role="separator">
                … {OMITTED_MARKER.exec(output)?.[1] ?? "some"} bytes omitted …
              </span>
              {tail}
            </>
          ) : null}
        </pre>
      ) : result && !error ? (
        <div className="faint execute-empty">No output</div>
      ) : null}
      {note ? <div className="execute-note">{note}</div> : null}
    </div>
  );
}

function splitAtMarker(output: string): [string, string | undefined] {
  const match = OMITTED_MARKER.exec(output);
  if (!match) return [output, undefined];
  return [output.slice(0, match.index), output.slice(match.index + match[0].length)];
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
