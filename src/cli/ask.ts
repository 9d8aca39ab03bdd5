/**
 * Questions on a terminal, answers from a pipe: what `chatd login` reads its username and
 * password with. On a terminal the question goes to stderr (stdout stays clean) and a secret is
 * read in raw mode without echo; otherwise each answer is the next line of stdin, so
 * `printf 'alice\nsecret\n' | chatd login` works.
 */
import readline from "node:readline";
import { UsageError } from "./usage.js";

/** A line this long on stdin is not a username or a password (the API caps both far lower). */
const MAX_ANSWER_CHARS = 4096;

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACE = "\u007f";
const CTRL_H = "\b";

export interface Asker {
  ask(question: string): Promise<string>;
  /** Like ask, without echo on a terminal. */
  secret(question: string): Promise<string>;
  close(): void;
}

/** Reads the answers line by line from a non-terminal stdin. */
function pipeAsker(input: NodeJS.ReadStream): Asker {
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let ended = false;
  const rl = readline.createInterface({ input, terminal: false, crlfDelay: Infinity });
  rl.on("line", (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  rl.on("close", () => {
    ended = true;
    for (const next of waiting.splice(0)) next(undefined);
  });
  const next = async (what: string): Promise<string> => {
    const line = lines.shift() ?? (ended ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve)));
    if (line === undefined) throw new UsageError(`stdin ended before the ${what}; give one line each for the username and the password`);
    if (line.length > MAX_ANSWER_CHARS) throw new UsageError(`the ${what} line on stdin is too long`);
    return line;
  };
  return {
    ask: (question) => next(question.replace(/[:?]\s*$/, "").toLowerCase()),
    secret: (question) => next(question.replace(/[:?]\s*$/, "").toLowerCase()),
    close: () => {
      rl.close();
      // A pipe nobody writes to any more would otherwise keep the process waiting.
      input.destroy();
    },
  };
}

/** Asks on the terminal: questions on stderr, secrets typed without echo. */
function terminalAsker(input: NodeJS.ReadStream, output: NodeJS.WriteStream): Asker {
  return {
    ask: (question) =>
      new Promise((resolve) => {
        const rl = readline.createInterface({ input, output, terminal: true });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    secret: (question) =>
      new Promise((resolve, reject) => {
        output.write(question);
        let answer = "";
        input.setRawMode(true);
        input.resume();
        input.setEncoding("utf8");
        const done = (error?: Error) => {
          input.off("data", onData);
          input.setRawMode(false);
          input.pause();
          output.write("\n");
          if (error) reject(error);
          else resolve(answer);
        };
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === "\r" || ch === "\n") return done();
            if (ch === CTRL_C) return done(new UsageError("login canceled"));
            if (ch === CTRL_D) return done();
            if (ch === BACKSPACE || ch === CTRL_H) answer = answer.slice(0, -1);
            else if (answer.length < MAX_ANSWER_CHARS) answer += ch;
          }
        };
        input.on("data", onData);
      }),
    close: () => undefined,
  };
}

export function stdinAsker(): Asker {
  return process.stdin.isTTY ? terminalAsker(process.stdin, process.stderr) : pipeAsker(process.stdin);
}
