/**
 * The errors the workspace service throws. Each carries the HTTP status it maps to, a message
 * meant for the user (or the model, when a chat tool relays it), an optional detail and, for bad
 * input, per-field validations. The module never imports the HTTP layer: routes map these with
 * `api/routes/workspaces-common.ts`, chat tools can show `message` as is.
 */

export interface FieldProblem {
  /** Dotted path of the offending field as the caller sent it (`parameters.repository`). */
  field: string;
  detail: string;
}

export type WorkspaceErrorStatus = 400 | 403 | 404 | 409;

export abstract class WorkspaceServiceError extends Error {
  abstract readonly status: WorkspaceErrorStatus;
  constructor(
    message: string,
    readonly detail?: string,
    readonly validations?: FieldProblem[],
  ) {
    super(message);
  }
}

/** 400: the input is wrong; nothing was changed. */
export class WorkspaceInputError extends WorkspaceServiceError {
  readonly status = 400;
  constructor(message: string, detail?: string, validations?: FieldProblem[]) {
    super(message, detail, validations);
    this.name = "WorkspaceInputError";
  }
}

/** 404: no such workspace, template or build, or the subject may not read it (same answer). */
export class WorkspaceNotFoundError extends WorkspaceServiceError {
  readonly status = 404;
  constructor(message = "Workspace not found.") {
    super(message);
    this.name = "WorkspaceNotFoundError";
  }
}

export class TemplateNotFoundError extends WorkspaceServiceError {
  readonly status = 404;
  constructor(message = "Template not found.") {
    super(message);
    this.name = "TemplateNotFoundError";
  }
}

export class BuildNotFoundError extends WorkspaceServiceError {
  readonly status = 404;
  constructor(message = "Workspace build not found.") {
    super(message);
    this.name = "BuildNotFoundError";
  }
}

/** 403: the subject may read the object but not do this to it. */
export class WorkspaceForbiddenError extends WorkspaceServiceError {
  readonly status = 403;
  constructor(message = "Forbidden.", detail?: string) {
    super(message, detail);
    this.name = "WorkspaceForbiddenError";
  }
}

/**
 * 409: the request conflicts with the current state: a build already in progress, a transition
 * that makes no sense (start a started workspace), a taken name, a template still in use.
 */
export class WorkspaceConflictError extends WorkspaceServiceError {
  readonly status = 409;
  constructor(message: string, detail?: string) {
    super(message, detail);
    this.name = "WorkspaceConflictError";
  }
}

/** `waitForBuild` gave up: the build had not finished by the deadline. */
export class BuildWaitTimeoutError extends Error {
  constructor(
    readonly buildId: string,
    readonly timeoutMs: number,
  ) {
    super(`workspace build ${buildId} did not finish within ${timeoutMs} ms`);
    this.name = "BuildWaitTimeoutError";
  }
}

/** A message for an unknown thrown value, for build errors and logs. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
