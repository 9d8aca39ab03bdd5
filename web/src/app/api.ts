/**
 * The one API client of the web UI: the SDK's ChatdClient on the same origin, authenticated by
 * the HttpOnly session cookie (no token in JavaScript, localStorage or a URL). Query keys live
 * here so that every component that reads or invalidates a resource names it the same way.
 */
import { ChatdClient, ChatdError } from "../../../src/sdk/client.js";

export const api = new ChatdClient({ baseUrl: "" });

export const queryKeys = {
  me: ["me"] as const,
  firstUser: ["first-user"] as const,
  chats: (archived: boolean) => ["chats", { archived }] as const,
  allChatLists: ["chats"] as const,
  chat: (id: string) => ["chat", id] as const,
  models: ["chat-models"] as const,
  workspaces: ["workspaces"] as const,
  usableWorkspaces: ["workspaces", "usable"] as const,
  userPrompt: ["user-prompt"] as const,
  keys: ["api-keys"] as const,
};

/** Whether an error means the session is gone (the UI then shows the login page). */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ChatdError && error.status === 401;
}

export { ChatdError };
