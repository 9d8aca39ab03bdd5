/**
 * Whether the client commands may colour what they print, and the few styles they use. Colour
 * goes only to a terminal: a pipe or a file gets plain text, so `chatd chat … > answer.txt` and
 * `chatd chats | cut -f1` never see escape codes. NO_COLOR (https://no-color.org: a non-empty
 * value) and TERM=dumb turn it off on a terminal too.
 */

/** What the decision reads of a stream: Node's `isTTY`, which only a terminal has. */
export interface MaybeTty {
  readonly isTTY?: boolean;
}

export function colourEnabled(stream: MaybeTty, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

/** The escape codes of one stream: empty strings when colour is off, so callers never branch. */
export interface Codes {
  readonly dim: string;
  readonly red: string;
  readonly green: string;
  readonly yellow: string;
  readonly bold: string;
  readonly reset: string;
}

const ANSI: Codes = { dim: "\x1b[2m", red: "\x1b[31m", green: "\x1b[32m", yellow: "\x1b[33m", bold: "\x1b[1m", reset: "\x1b[0m" };
const PLAIN: Codes = { dim: "", red: "", green: "", yellow: "", bold: "", reset: "" };

export function codesFor(stream: MaybeTty, env: NodeJS.ProcessEnv = process.env): Codes {
  return colourEnabled(stream, env) ? ANSI : PLAIN;
}

/** `text` in `code`, or as is when colour is off. */
export function paint(codes: Codes, code: keyof Omit<Codes, "reset">, text: string): string {
  return codes[code] === "" ? text : `${codes[code]}${text}${codes.reset}`;
}
