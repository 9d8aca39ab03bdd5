/**
 * `npm run mock-llm`: runs the mock provider server in the foreground so chatd can be tried (or
 * demoed, or debugged) without an API key. Every model request is answered by the next turn of an
 * optional script file, then by echoing the user's last message, forever. Logs one line per
 * request and never prints request headers, so no key can leak into a terminal or log.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseScript } from "./script.js";
import { startMockLlm, type MockLlm, type RecordedRequest } from "./server.js";

const HELP = `mock-llm: fake OpenAI, Anthropic and Gemini endpoints for chatd

Usage: npm run mock-llm -- [flags]

  --port n          port to listen on (default 11435; 0 picks a free one)
  --host address    address to listen on (default 127.0.0.1)
  --script file     JSON script: an array of turns (or {"turns": [...]}) answering chat
                    steps (streamed requests) in order, then echoing the user's last message;
                    titles and summaries (not streamed) are always echoed, so they never take
                    a scripted turn. Example: examples/mock-tools.json
  --delay-ms n      delay before each streamed chunk of turns that set none (default 20)
  --quiet           do not log requests
  --help            show this help

Turn format: see src/llm/mock/README.md.
`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: "string", default: "11435" },
        host: { type: "string", default: "127.0.0.1" },
        script: { type: "string" },
        "delay-ms": { type: "string", default: "20" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`mock-llm: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = parseNonNegativeInt(values.port, "--port");
  const delay = parseNonNegativeInt(values["delay-ms"], "--delay-ms");
  if (typeof port === "string" || typeof delay === "string") {
    process.stderr.write(`mock-llm: ${typeof port === "string" ? port : delay}\n`);
    return 2;
  }

  let turns: ReturnType<typeof parseScript> = [];
  if (values.script !== undefined) {
    try {
      turns = parseScript(await readFile(values.script, "utf8"), values.script);
    } catch (error) {
      process.stderr.write(`mock-llm: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
  }

  const quiet = values.quiet;
  let mock: MockLlm | undefined;
  try {
    mock = await startMockLlm({
      port,
      host: values.host,
      turns,
      streamedTurnsOnly: true,
      defaultChunkDelayMs: delay,
      onRequest: (request) => {
        if (!quiet) process.stdout.write(`${describe(request, mock?.pendingTurns ?? 0)}\n`);
      },
    });
  } catch (error) {
    process.stderr.write(`mock-llm: cannot listen on ${values.host}:${port}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }

  const { baseUrls } = mock;
  process.stdout.write(
    [
      `mock-llm listening on ${mock.url}${turns.length > 0 ? ` (${turns.length} scripted turns, then echo)` : " (echo mode)"}`,
      "",
      "Give a chatd provider one of these base URLs, any API key (it is ignored and never",
      "logged; openai-compat needs none) and any model name:",
      `  openai         ${baseUrls.openai}   (Responses API)`,
      `  openai-compat  ${baseUrls.openaiCompat}   (Chat Completions)`,
      `  anthropic      ${baseUrls.anthropic}   (Messages API)`,
      `  google         ${baseUrls.google}   (Gemini API)`,
      "",
      "Ctrl-C stops it.",
      "",
    ].join("\n"),
  );

  const running = mock;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`mock-llm: ${signal}, stopping\n`);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await running.close();
  return 0;
}

function parseNonNegativeInt(text: string, flag: string): number | string {
  const value = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(value) ? value : `${flag} must be a non-negative integer, got "${text}"`;
}

function describe(request: RecordedRequest, pending: number): string {
  const mode = request.stream ? "stream" : "json";
  const by = request.answeredBy === "script" ? `script (${pending} left)` : request.answeredBy;
  return `${new Date().toISOString()} ${request.format} ${request.model} ${mode} -> ${by}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mock-llm: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
