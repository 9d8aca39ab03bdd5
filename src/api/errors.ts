/**
 * The API's one error shape: `{message, detail?, validations?: [{field, detail}]}`. Handlers throw
 * `HttpError`; the app's error handler turns it (and anything unexpected, as a 500 without
 * internals) into that JSON.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ErrorResponse, ValidationError } from "../sdk/schemas/errors.js";

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly detail?: string,
    readonly validations?: ValidationError[],
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
  }

  toJSON(): ErrorResponse {
    return {
      message: this.message,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(this.validations === undefined ? {} : { validations: this.validations }),
    };
  }
}

export const badRequest = (message: string, detail?: string, validations?: ValidationError[]) =>
  new HttpError(400, message, detail, validations);
export const unauthorized = (message = "You must be logged in to do this.", detail?: string) =>
  new HttpError(401, message, detail);
export const forbidden = (message = "Forbidden.", detail?: string) => new HttpError(403, message, detail);
export const notFound = (message = "Resource not found or you do not have access to this resource.") =>
  new HttpError(404, message);
export const conflict = (message: string, detail?: string) => new HttpError(409, message, detail);

/** Turns zod issues into `validations`, naming each field by its dotted path. */
export function validationsFromZod(error: z.ZodError, prefix?: string): ValidationError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const field = [prefix, path].filter((part) => part !== undefined && part !== "").join(".");
    return { field: field === "" ? (prefix ?? "body") : field, detail: issue.message };
  });
}
