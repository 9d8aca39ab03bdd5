/** The process logger: pino with field redaction and a final secret scrub of every line. */
import { pino, type DestinationStream, type Logger } from "pino";
import { REDACTED, scrubSecrets } from "./scrub.js";

export type { Logger } from "pino";

/** Field paths removed from any logged object, at the top level or one level down. */
const REDACT_PATHS = [
  "authorization",
  "cookie",
  "password",
  "api_key",
  "apiKey",
  "key",
  "token",
  "session_token",
  "secret",
  "encryption_key",
  "*.authorization",
  "*.cookie",
  "*.password",
  "*.api_key",
  "*.apiKey",
  "*.key",
  "*.token",
  "*.session_token",
  "*.secret",
  "*.encryption_key",
  'headers["set-cookie"]',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  "req.headers.authorization",
  "req.headers.cookie",
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

/** Wraps a destination so every line is scrubbed before it is written. */
function scrubbing(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(scrubSecrets(line)) };
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level,
      base: { service: "chatd" },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    scrubbing(destination),
  );
}
