/**
 * A failure the person running a `chatd` command can fix (a port in use, a database that does not
 * answer, a data directory that is not one, a server that is down). The message is one line that
 * says what is wrong and what to do; the command prints it without a stack trace and exits 1.
 * Anything else that escapes a command is a bug and keeps its stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}
