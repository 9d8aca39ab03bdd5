/** Small helpers with no better home: shared by server, CLI and SDK code. */

/** Parses JSON from an untrusted peer; undefined instead of throwing on garbage. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID (checked before it reaches a uuid column, which would reject it). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
