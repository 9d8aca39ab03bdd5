/**
 * The external programs the desktop drives, and how they are run.
 *
 * Invariants:
 * - Programs run through execFile/spawn with argument arrays, never a shell string, so text the
 *   model types can never become a command.
 * - A missing program is reported as a bad_request naming the program and the Debian package
 *   that provides it, so the operator knows exactly what to install.
 */
import { execFile } from "node:child_process";
import { AgentError, errnoCode, errorMessage } from "../errors.js";

/** Program → Debian package that ships it (what `.ci/run` installs). */
export const DESKTOP_PROGRAMS = {
  Xvfb: "xvfb",
  x11vnc: "x11vnc",
  xdotool: "xdotool",
  import: "imagemagick",
} as const;
export type DesktopProgram = keyof typeof DESKTOP_PROGRAMS;

/** One xdotool or import call should take milliseconds; ten seconds means the X server is stuck. */
export const PROGRAM_TIMEOUT_MS = 10_000;
/**
 * A 1280×720 screenshot is a few hundred KiB of PNG; 16 MiB leaves room for noisy screens and is
 * far below the ws library's default 100 MiB frame limit once base64 adds its third.
 */
export const MAX_SCREENSHOT_BYTES = 16 * 1024 * 1024;

export function missingProgram(program: DesktopProgram): AgentError {
  return new AgentError(
    "bad_request",
    `the desktop needs ${program}, which is not installed in this workspace (Debian package: ${DESKTOP_PROGRAMS[program]}; install with apt-get install -y ${DESKTOP_PROGRAMS[program]})`,
  );
}

/** Runs a program to completion and returns its stdout bytes; rejects with its stderr on failure. */
export function runProgram(program: DesktopProgram, args: string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { env, encoding: "buffer", timeout: PROGRAM_TIMEOUT_MS, maxBuffer: MAX_SCREENSHOT_BYTES },
      (error, stdout, stderr) => {
        if (error) {
          if (errnoCode(error) === "ENOENT") reject(missingProgram(program));
          else reject(new AgentError("internal", `${program} failed: ${stderr.toString().trim() || errorMessage(error)}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}
