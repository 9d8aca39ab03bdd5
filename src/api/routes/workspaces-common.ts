/**
 * What the template, workspace and build routes share: path parameters, paging, and the mapping
 * of the workspace service's errors (workspaces/errors.ts) to the API's error shape.
 */
import { z } from "zod";
import { WorkspaceServiceError } from "../../workspaces/errors.js";
import { HttpError } from "../errors.js";

/** Ids and names are short; the bound keeps junk out of queries and error details. */
const MAX_REF_LENGTH = 64;
export const refField = z.string().min(1).max(MAX_REF_LENGTH);

export const templateParams = z.object({ template: refField });
export const workspaceParams = z.object({ workspace: refField });
export const buildParams = z.object({ build: refField });
export const shareParams = z.object({ workspace: refField, user: refField });

/** Listing page size: default and ceiling, as for users. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).default(0),
});

export const booleanQuery = z.enum(["true", "false"]).transform((value) => value === "true");

/** Runs a handler body, turning the service's typed errors into HttpErrors. */
export async function mapWorkspaceErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof WorkspaceServiceError) throw new HttpError(error.status, error.message, error.detail, error.validations);
    throw error;
  }
}
