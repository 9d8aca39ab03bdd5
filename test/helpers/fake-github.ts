/**
 * A fake GitHub REST API on a real node:http server, for gitsync and the diff route: pulls listed
 * by head, a pull by number (JSON or diff), its reviews, the repository, compare. It checks the
 * headers behavior.md requires (Accept, X-GitHub-Api-Version, a known Bearer token), can answer
 * rate limits, and counts requests in flight per PR so tests can prove no two replicas refresh one
 * row at once. Tests wait on `nextRequest` rather than sleeping.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakePull {
  number: number;
  state: "open" | "closed";
  merged?: boolean;
  title: string;
  draft?: boolean;
  head: string;
  base?: string;
  additions?: number;
  deletions?: number;
  changed_files?: number;
  commits?: number;
  author?: string;
  created_at?: string;
  merged_at?: string | null;
  closed_at?: string | null;
  diff?: string;
}

export interface FakeReview {
  id: number;
  login: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED" | "COMMENTED";
}

export interface FakeRepo {
  defaultBranch: string;
  pulls: FakePull[];
  reviews: Map<number, FakeReview[]>;
  /** `base...head` → diff text */
  compares: Map<string, string>;
}

export interface SeenRequest {
  path: string;
  accept: string | undefined;
  apiVersion: string | undefined;
  authorization: string | undefined;
}

export interface FakeGitHub {
  url: string;
  tokens: Set<string>;
  repos: Map<string, FakeRepo>;
  requests: SeenRequest[];
  /** Rate-limit the next `count` requests (429 with Retry-After, or 403 with X-RateLimit-Reset). */
  rateLimitNext(count: number, how: "retry-after" | "reset"): void;
  /** Delays pull-by-number answers, so overlapping refreshes would be visible. */
  pullDelayMs: number;
  /** Delays every answer that is not a rate limit (so a rate limit is heard first). */
  answerDelayMs: number;
  /** Highest number of requests for one PR that were in flight at once. */
  maxConcurrentPerPull(): number;
  /** Resolves with the next request whose path matches. */
  nextRequest(match: (path: string) => boolean): Promise<SeenRequest>;
  repo(fullName: string, defaultBranch?: string): FakeRepo;
  close(): Promise<void>;
}

const JSON_TYPE = "application/vnd.github+json";
const DIFF_TYPE = "application/vnd.github.diff";

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const repos = new Map<string, FakeRepo>();
  const requests: SeenRequest[] = [];
  const tokens = new Set<string>();
  const waiters: Array<{ match: (path: string) => boolean; resolve: (request: SeenRequest) => void }> = [];
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  let limited = { count: 0, how: "retry-after" };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json", "Content-Length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };

  const pullJson = (fullName: string, pull: FakePull) => ({
    number: pull.number,
    html_url: `https://github.com/${fullName}/pull/${pull.number}`,
    state: pull.state,
    title: pull.title,
    draft: pull.draft ?? false,
    merged: pull.merged ?? false,
    merged_at: pull.merged_at ?? (pull.merged ? "2026-01-02T00:00:00Z" : null),
    closed_at: pull.closed_at ?? (pull.state === "closed" ? "2026-01-02T00:00:00Z" : null),
    created_at: pull.created_at ?? "2026-01-01T00:00:00Z",
    additions: pull.additions ?? 0,
    deletions: pull.deletions ?? 0,
    changed_files: pull.changed_files ?? 0,
    commits: pull.commits ?? 1,
    user: { login: pull.author ?? "agent-bot", avatar_url: `https://avatars.example/${pull.author ?? "agent-bot"}` },
    base: { ref: pull.base ?? "main" },
    head: { ref: pull.head },
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, seen: SeenRequest) => {
    if (seen.apiVersion !== "2022-11-28") return send(res, 400, { message: "missing X-GitHub-Api-Version" });
    const token = /^Bearer (.+)$/.exec(seen.authorization ?? "")?.[1];
    if (!token || !tokens.has(token)) return send(res, 401, { message: "Bad credentials" });
    if (limited.count > 0) {
      limited.count--;
      return limited.how === "retry-after"
        ? send(res, 429, { message: "slow down" }, { "Retry-After": "60" })
        : send(res, 403, { message: "API rate limit exceeded" }, { "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(Math.floor(Date.now() / 1000) + 120) });
    }
    if (fake.answerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.answerDelayMs));
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const fullName = match ? `${decodeURIComponent(match[1] ?? "")}/${decodeURIComponent(match[2] ?? "")}` : "";
    const repo = repos.get(fullName);
    if (!match || !repo) return send(res, 404, { message: "Not Found" });
    const rest = match[3] ?? "";
    const wantsDiff = seen.accept === DIFF_TYPE;
    if (!wantsDiff && seen.accept !== JSON_TYPE) return send(res, 415, { message: "bad Accept" });
    if (rest === "") return send(res, 200, { full_name: fullName, default_branch: repo.defaultBranch });
    if (rest === "/pulls") {
      const head = url.searchParams.get("head") ?? "";
      const found = repo.pulls.filter((pull) => pull.state === "open" && `${fullName.split("/")[0]}:${pull.head}` === head).slice(0, 1);
      return send(res, 200, found.map((pull) => pullJson(fullName, pull)));
    }
    const pullMatch = /^\/pulls\/(\d+)(\/reviews)?$/.exec(rest);
    if (pullMatch) {
      const number = Number(pullMatch[1]);
      const pull = repo.pulls.find((candidate) => candidate.number === number);
      if (!pull) return send(res, 404, { message: "Not Found" });
      if (pullMatch[2]) {
        const reviews = repo.reviews.get(number) ?? [];
        return send(res, 200, reviews.map((review) => ({ id: review.id, state: review.state, user: { login: review.login } })));
      }
      if (wantsDiff) return send(res, 200, pull.diff ?? "");
      const key = `${fullName}#${number}`;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      maxInFlight = Math.max(maxInFlight, inFlight.get(key) ?? 0);
      try {
        if (fake.pullDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.pullDelayMs));
      } finally {
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      }
      return send(res, 200, pullJson(fullName, pull));
    }
    const compare = /^\/compare\/(.+)$/.exec(rest);
    if (compare && wantsDiff) {
      const diff = repo.compares.get(decodeURIComponent(compare[1] ?? ""));
      return diff === undefined ? send(res, 404, { message: "Not Found" }) : send(res, 200, diff);
    }
    return send(res, 404, { message: "Not Found" });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const seen: SeenRequest = { path: `${url.pathname}${url.search}`, accept: header("accept"), apiVersion: header("x-github-api-version"), authorization: header("authorization") };
    requests.push(seen);
    for (const waiter of [...waiters]) {
      if (waiter.match(seen.path)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(seen);
      }
    }
    handle(req, res, url, seen).catch(() => send(res, 500, { message: "fake failed" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake GitHub is not on TCP");
  const port = (address satisfies AddressInfo).port;

  const fake: FakeGitHub = {
    url: `http://127.0.0.1:${port}`,
    tokens,
    repos,
    requests,
    pullDelayMs: 0,
    answerDelayMs: 0,
    rateLimitNext: (count, how) => {
      limited = { count, how };
    },
    maxConcurrentPerPull: () => maxInFlight,
    nextRequest: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
    repo: (fullName, defaultBranch = "main") => {
      const existing = repos.get(fullName);
      if (existing) return existing;
      const created: FakeRepo = { defaultBranch, pulls: [], reviews: new Map(), compares: new Map() };
      repos.set(fullName, created);
      return created;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
