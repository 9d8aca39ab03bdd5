/**
 * The chat's diff and PR insights (behavior.md sections 3 and 8):
 * - `GET /chats/{chat}/diff`: the PR diff, or the branch compared with the default branch, read
 *   with the chat owner's token (a missing one is a 500, as in the reference; never named);
 * - `GET /chats/insights/pull-requests`: admins (deployment_config read) only.
 */
import { can } from "../../rbac/policy.js";
import { DiffTooLargeError, GitHubError } from "../../gitsync/github.js";
import { chatDiff } from "../../gitsync/diff.js";
import { pullRequestInsights } from "../../gitsync/insights.js";
import { NoTokenError, type GitSync } from "../../gitsync/sync.js";
import { costWindowQuerySchema } from "../../sdk/schemas/cost.js";
import { chatDiffContentsSchema, prInsightsResponseSchema } from "../../sdk/schemas/pull-requests.js";
import { forbidden, HttpError } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { CHAT_PATH, CHATS_PATH, chatParams, loadChat } from "./chats-common.js";
import { costWindow } from "./chats-cost.js";

/** A diff request waits this long for GitHub: a big compare is slow, but a hung API must not hang the panel. */
const DIFF_TIMEOUT_MS = 30_000;

export function registerChatPullRequestRoutes(routes: RouteRegistry, services: ApiServices, gitsync: GitSync): void {
  const { db } = services.database;

  routes.add({
    tags: ["Chats"],
    auth: "user",
    method: "get",
    path: `${CHATS_PATH}/insights/pull-requests`,
    summary: "What the agents' pull requests came to over a window (admins)",
    params: none,
    query: costWindowQuerySchema,
    body: none,
    status: 200,
    response: prInsightsResponseSchema,
    handler: async ({ c, query }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "read", { type: "deployment_config" })) throw forbidden();
      return pullRequestInsights(db, costWindow(query));
    },
  });

  routes.add({
    tags: ["Chats"],
    auth: "user",
    method: "get",
    path: `${CHAT_PATH}/diff`,
    summary: "The chat's diff: its pull request's, or its branch against the default branch",
    params: chatParams,
    query: none,
    body: none,
    status: 200,
    response: chatDiffContentsSchema,
    handler: async ({ c, params }) => {
      const chat = await loadChat(db, requireActor(c), params.chat);
      try {
        return await chatDiff(db, gitsync, chat, AbortSignal.timeout(DIFF_TIMEOUT_MS));
      } catch (error) {
        if (error instanceof NoTokenError) throw new HttpError(500, "No GitHub token is linked for the chat's owner.", "Link one under external auth.");
        if (error instanceof DiffTooLargeError) throw new HttpError(500, error.message);
        if (error instanceof GitHubError) throw new HttpError(502, "GitHub refused the diff request.", error.message);
        throw error;
      }
    },
  });
}
