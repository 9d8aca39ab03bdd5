/**
 * The errors the user and group modules throw. Each carries the status the API answers with and a
 * message meant for the person who sent the request; the module never imports the HTTP layer
 * (the app's error handler maps these, the CLI prints `message`).
 */

export type UserErrorStatus = 404 | 409;

export abstract class UserServiceError extends Error {
  abstract readonly status: UserErrorStatus;
}

/** 404: no such user or group, or the caller may not see it (the same answer, on purpose). */
export class UserNotFoundError extends UserServiceError {
  readonly status = 404;
  constructor(message = "User not found.") {
    super(message);
    this.name = "UserNotFoundError";
  }
}

/** 409: a unique name (username, email, group name) is taken; nothing was written. */
export class UserConflictError extends UserServiceError {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = "UserConflictError";
  }
}
