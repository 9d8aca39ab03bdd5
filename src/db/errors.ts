/** Reading PostgreSQL errors through Drizzle's wrapper, the same way on both drivers. */

const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";

function field(error: unknown, name: "code" | "constraint"): string | undefined {
  if (typeof error !== "object" || error === null || !(name in error)) return undefined;
  const value: unknown = Reflect.get(error, name);
  return typeof value === "string" ? value : undefined;
}

/** The driver error: Drizzle wraps it as `cause`. */
function driverError(error: unknown): unknown {
  if (field(error, "code") !== undefined) return error;
  return error instanceof Error ? error.cause : undefined;
}

/** The violated constraint's name when `error` is a unique violation, else undefined. */
export function uniqueViolation(error: unknown): string | undefined {
  const cause = driverError(error);
  if (field(cause, "code") !== UNIQUE_VIOLATION) return undefined;
  return field(cause, "constraint") ?? "";
}

/** True when `error` is a foreign-key violation (a row still referenced, or a missing parent). */
export function foreignKeyViolation(error: unknown): boolean {
  return field(driverError(error), "code") === FOREIGN_KEY_VIOLATION;
}
