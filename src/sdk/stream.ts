/**
 * The stream followers for Node (the CLI, scripts, tests): follow.ts's `followChat` and
 * `followWatch` over the `ws` package, whose sockets carry the client's Authorization header
 * (Node has no cookie jar, and a token never travels in a query string). Browsers import
 * follow.ts directly and use their own WebSocket with the session cookie.
 */
import WebSocket from "ws";
import type { ChatdClient } from "./client.js";
import * as follow from "./follow.js";

export { RECONNECT_INITIAL_DELAY_MS, RECONNECT_MAX_DELAY_MS, type FollowOptions, type WatchOptions } from "./follow.js";
export type { ChatWatchEvent, StreamEvent } from "./schemas/streams.js";

/** Sockets that authenticate as `client` does. */
export function nodeSocketFactory(client: ChatdClient): follow.SocketFactory {
  const authorization = client.authorization;
  return (url) => new WebSocket(url, authorization === undefined ? {} : { headers: { Authorization: authorization } });
}

export function followChat(client: ChatdClient, chatId: string, options: follow.FollowOptions): Promise<void> {
  return follow.followChat(client, chatId, { connect: nodeSocketFactory(client), ...options });
}

export function followWatch(client: ChatdClient, options: follow.WatchOptions): Promise<void> {
  return follow.followWatch(client, { connect: nodeSocketFactory(client), ...options });
}
