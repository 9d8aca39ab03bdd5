/**
 * The usage-limit gate of the HTTP paths that start model work: creating a chat, sending and
 * editing a message (behavior.md section 3). Over the limit they answer 409 with the spend, the
 * limit and when it resets; promotion and the queue's auto-promotion never come here.
 *
 * Resolution errors fail open (logged): a broken limit lookup must not lock every user out of
 * their agents; the spend is still recorded and the next check sees it.
 */
import type { Context } from "hono";
import type { Queryable } from "../db/client.js";
import { exceededLimit } from "../cost/limits.js";
import type { UsageLimitExceeded } from "../sdk/schemas/cost.js";
import type { ErrorResponse } from "../sdk/schemas/errors.js";
import type { AppEnv } from "./context.js";
import { HttpError } from "./errors.js";

export const USAGE_LIMIT_EXCEEDED = "Chat usage limit exceeded.";

export class UsageLimitExceededError extends HttpError {
  constructor(readonly exceeded: UsageLimitExceeded) {
    super(409, exceeded.message);
    this.name = "UsageLimitExceededError";
  }

  override toJSON(): ErrorResponse & UsageLimitExceeded {
    return { ...this.exceeded };
  }
}

export async function assertUnderUsageLimit(c: Context<AppEnv>, q: Queryable, userId: string): Promise<void> {
  let exceeded: Awaited<ReturnType<typeof exceededLimit>>;
  try {
    exceeded = await exceededLimit(q, userId);
  } catch (error) {
    c.get("log").warn({ err: error, user_id: userId }, "usage limit check failed; letting the request through");
    return;
  }
  if (!exceeded) return;
  throw new UsageLimitExceededError({
    message: USAGE_LIMIT_EXCEEDED,
    spent_micros: exceeded.spentMicros,
    limit_micros: exceeded.limitMicros,
    resets_at: exceeded.resetsAt.toISOString(),
  });
}
