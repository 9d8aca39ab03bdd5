import { describe, expect, it } from "vitest";
import type { MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { useBrowserHarness } from "./harness.js";

const h = useBrowserHarness();

const words = (count: number) => Array.from({ length: count }, (_, i) => `word${i}`).join(" ");

/** Streamed turns answer slowly (so the test can act mid-stream); title requests answer at once. */
function slowAnswers(text: string, chunkDelayMs: number): (request: RecordedRequest) => MockTurn {
  return (request) => (request.stream ? { parts: [{ type: "text", text }], usage: { input: 5, output: 5 }, chunkDelayMs } : { parts: [{ type: "text", text: "Slow task" }] });
}

describe("chat controls in the browser", () => {
  it("stops mid-stream keeping the partial answer, queues two messages, sends one now, and archives from the sidebar while another browser watches", async () => {
    const turn = slowAnswers(words(400), 30);
    h.mock.enqueue(...Array.from({ length: 8 }, () => turn));
    const page = await h.newPage();
    const watcher = await h.newPage();
    await watcher.goto(`${h.t.url}/agents`);
    await watcher.getByText("No agents yet.").waitFor();

    await page.goto(`${h.t.url}/agents`);
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Write a long answer");
    await input.press("Enter");
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);

    // The other browser's sidebar shows the new chat without a reload.
    await watcher.locator(".chat-link", { hasText: /Slow task|Write a long answer/ }).waitFor({ timeout: 10_000 });

    // Streaming: the live row grows; Stop keeps what was written so far.
    await page.locator(".row-live", { hasText: "word20" }).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator(".status-pill", { hasText: "Waiting for you" }).waitFor({ timeout: 10_000 });
    const kept = page.locator(".row-assistant .markdown", { hasText: "word20" });
    await kept.waitFor();
    expect(await page.locator(".markdown", { hasText: "word399" }).count()).toBe(0);

    // Busy again: two follow-ups queue; "Send now" promotes the second.
    await input.fill("First follow-up");
    await input.press("Enter");
    await page.locator(".status-pill", { hasText: /Running|Pending/ }).waitFor();
    await input.fill("Queued one");
    await input.press("Enter");
    await input.fill("Queued two");
    await input.press("Enter");
    const queue = page.getByRole("region", { name: "Queued messages" });
    await queue.getByText("Queued two").waitFor();
    await queue.getByText("Queued one").waitFor();
    await h.screenshot(page, "chat-queue");
    await queue.locator(".queue-item", { hasText: "Queued two" }).getByRole("button", { name: "Send queued message now" }).click();
    await page.locator(".row-user .user-text", { hasText: "Queued two" }).waitFor();
    await expect.poll(() => queue.getByText("Queued two").count()).toBe(0);
    await page.getByRole("button", { name: "Stop" }).click();

    // Archive from the sidebar menu: gone from Active in both browsers, back after unarchive.
    const row = page.locator(".chat-row").first();
    await row.hover();
    await row.getByRole("button", { name: /^Actions for/ }).click();
    await page.getByRole("menuitem", { name: "Archive" }).click();
    await page.getByText("No agents yet.").waitFor();
    await watcher.getByText("No agents yet.").waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Archived" }).click();
    const archived = page.locator(".chat-row").first();
    await archived.waitFor();
    await archived.hover();
    await archived.getByRole("button", { name: /^Actions for/ }).click();
    await page.getByRole("menuitem", { name: "Unarchive" }).click();
    await page.getByText("No archived agents.").waitFor();
    await watcher.locator(".chat-link").first().waitFor({ timeout: 10_000 });
  });
});
