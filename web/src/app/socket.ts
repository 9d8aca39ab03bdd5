/**
 * WebSockets from the browser: same origin, authenticated by the session cookie the browser
 * sends with the upgrade (a browser cannot set an Authorization header, and a token must never
 * travel in a URL).
 */
export function browserSocket(url: string): WebSocket {
  const absolute = new URL(url, window.location.href);
  absolute.protocol = absolute.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(absolute);
}
