/**
 * An API error in words: the server's message, its detail, and each field problem it named
 * (`validations`), so a person can act on it. Anything else shows its own message.
 */
import { ChatdError } from "../app/api.js";

export function errorMessage(error: unknown): string {
  if (error instanceof ChatdError) return error.message;
  if (error instanceof TypeError) return "The server could not be reached. Check that chatd is running.";
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function ErrorNotice({ error, className }: { error: unknown; className?: string }) {
  const validations = error instanceof ChatdError ? error.validations : [];
  const detail = error instanceof ChatdError ? error.detail : undefined;
  return (
    <div className={`alert alert-error ${className ?? ""}`} role="alert">
      <div>{errorMessage(error)}</div>
      {detail ? <div className="faint">{detail}</div> : null}
      {validations.length > 0 ? (
        <ul>
          {validations.map((problem) => (
            <li key={problem.field}>
              <strong>{problem.field}</strong>: {problem.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
