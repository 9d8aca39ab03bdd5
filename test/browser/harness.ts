/**
 * The browser tests' world: the real server (PGlite, serving the built web UI), the mock LLM
 * speaking the providers' wire formats, an owner with an Anthropic provider and a model config
 * pointed at the mock, and Debian's Chromium driven by playwright-core. Pages are signed in by
 * the session cookie, as a browser that logged in would be. A failed test leaves a screenshot of
 * each of its pages in test-results/.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, onTestFailed, expect } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { z } from "zod";
import { startTestServer, configureAnthropicModel, type TestServer, type TestUser, type TestServerOptions } from "../helpers/server.js";
import { startMockLlm, type MockLlm } from "../../src/llm/mock/index.js";
import { DEFAULT_WEB_DIR } from "../../src/server/server.js";

export const RESULTS_DIR = path.resolve(import.meta.dirname, "../../test-results");
/** Debian's package; CI installs it (.ci/run). */
const CHROMIUM = process.env.CHATD_CHROMIUM ?? "/usr/bin/chromium";
/** libs.md section e: headless without sandbox or GPU, and no background traffic to Google. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export interface BrowserHarness {
  readonly t: TestServer;
  readonly mock: MockLlm;
  readonly browser: Browser;
  readonly owner: TestUser;
  readonly modelId: string;
  /** A new browser context (own cookies) and page, signed in as `user` unless null. */
  newPage(user?: TestUser | null, options?: { colorScheme?: "light" | "dark" }): Promise<Page>;
  /** Saves a screenshot under test-results/ (kept for people to look at). */
  screenshot(page: Page, name: string): Promise<void>;
}

export interface HarnessOptions {
  /** Start with no user (for the first-run test). */
  noOwner?: boolean;
  server?: TestServerOptions;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function useBrowserHarness(options: HarnessOptions = {}): BrowserHarness {
  let t: TestServer | undefined;
  let mock: MockLlm | undefined;
  let browser: Browser | undefined;
  let owner: TestUser | undefined;
  let modelId = "";
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DEFAULT_WEB_DIR, "index.html"))) throw new Error("the web UI is not built: run `npm run build:web`");
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    mock = await startMockLlm();
    t = await startTestServer({ webDir: DEFAULT_WEB_DIR, ...options.server });
    browser = await launchChromium();
    if (!options.noOwner) {
      owner = await t.createOwner();
      modelId = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic, { display_name: "Claude Sonnet (mock)" });
    }
  });
  beforeEach(() => mock?.reset());
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
    await browser?.close();
    await t?.close();
    await mock?.close();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`browser harness: ${what} is used before beforeAll`);
    return value;
  };

  return {
    get t() {
      return need(t, "the server");
    },
    get mock() {
      return need(mock, "the mock LLM");
    },
    get browser() {
      return need(browser, "the browser");
    },
    get owner() {
      return need(owner, "the owner");
    },
    get modelId() {
      return modelId;
    },
    async newPage(user, pageOptions = {}) {
      const server = need(t, "the server");
      const context = await need(browser, "the browser").newContext({ viewport: { width: 1280, height: 800 }, colorScheme: pageOptions.colorScheme ?? "light" });
      contexts.push(context);
      const signedIn = user === undefined ? owner : user;
      if (signedIn) await context.addCookies([{ name: "chatd_session", value: signedIn.token, url: server.url, httpOnly: true, sameSite: "Lax" }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      onTestFailed(async ({ task }) => {
        const name = `${task.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}-failed-${contexts.indexOf(context)}.png`;
        await page.screenshot({ path: path.join(RESULTS_DIR, name), fullPage: true }).catch(() => undefined);
        if (errors.length > 0) console.error(`page errors: ${errors.join("\n")}`);
      });
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`) });
    },
  };
}

const axeResultsSchema = z.object({
  violations: z.array(z.object({ id: z.string(), impact: z.string().nullable().optional(), help: z.string(), nodes: z.array(z.object({ target: z.array(z.unknown()) })) })),
});

/** Runs axe-core in the page; fails on serious or critical violations, naming each. */
export async function expectNoSeriousA11yViolations(page: Page): Promise<void> {
  const axeSource = fs.readFileSync(path.resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: axeSource });
  const raw: unknown = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] })`);
  const { violations } = axeResultsSchema.parse(raw);
  const serious = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(serious.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => JSON.stringify(node.target)).join(", ")})`)).toEqual([]);
}
