/**
 * Go-style durations ("1s", "500ms", "5m", "1h30m") because operators copy values from Coder's docs,
 * which use that notation. Parsing is strict: an unknown unit or stray text is an error, never a
 * silent zero.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const SEGMENT = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Returns milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  if (trimmed === "") return undefined;
  SEGMENT.lastIndex = 0;
  let total = 0;
  while (SEGMENT.lastIndex < trimmed.length) {
    const match = SEGMENT.exec(trimmed);
    if (!match) return undefined;
    const [, amount, unit] = match;
    const factor = unit === undefined ? undefined : UNIT_MS[unit];
    if (amount === undefined || factor === undefined) return undefined;
    total += Number(amount) * factor;
  }
  return Math.round(total);
}

export function formatDurationMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
