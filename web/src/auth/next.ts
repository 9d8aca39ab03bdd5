/** Where to go after login. Only same-site paths: a `next` pointing elsewhere would make the login page an open redirect. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//")) return "/agents";
  return next;
}

