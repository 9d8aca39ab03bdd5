import { describe, expect, it } from "vitest";
import type { MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { useBrowserHarness } from "./harness.js";

const h = useBrowserHarness();

const words = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(" ");

/** Streamed turns answer with `text` at `chunkDelayMs` per word; title requests answer at once. */
function answers(text: string, chunkDelayMs: number): (request: RecordedRequest) => MockTurn {
  return (request) => (request.stream ? { parts: [{ type: "text", text }], usage: { input: 5, output: 5 }, chunkDelayMs } : { parts: [{ type: "text", text: "Resume test" }] });
}

describe("editing and reconnecting in the browser", () => {
  it("completes an answer exactly once when the server drops the socket mid-stream", async () => {
    const answer = words("tok", 300);
    // One turn for the title request, one for the answer, in whichever order they come.
    h.mock.enqueue(answers(answer, 15), answers(answer, 15));
    const page = await h.newPage();
    await page.goto(`${h.t.url}/agents`);
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Stream something long");
    await input.press("Enter");
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    await page.locator(".row-live", { hasText: "tok40" }).waitFor({ timeout: 15_000 });

    // Server-side close of every socket (the chat stream and the sidebar's watch).
    h.t.server.webSockets.dropAll();
    await page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ timeout: 5_000 });
    await h.screenshot(page, "chat-reconnecting");

    // Resumed from the last part seen: the finished answer holds every word once, in order.
    const finished = page.locator(".row-assistant:not(.row-live) .markdown");
    await finished.filter({ hasText: "tok299" }).waitFor({ timeout: 20_000 });
    await page.locator(".status-pill", { hasText: "Waiting for you" }).waitFor();
    expect(await finished.count()).toBe(1);
    expect((await finished.innerText()).trim()).toBe(answer);
    expect(await page.locator(".row-live").count()).toBe(0);
    expect(await page.getByRole("status").filter({ hasText: "Reconnecting" }).count()).toBe(0);
  });

  it("edits a sent message after a warning, removing what came after it, and the agent answers the new text", async () => {
    // The chat's title request takes one of the first two turns, the first answer the other.
    const first = answers("First answer about apples.", 1);
    h.mock.enqueue(first, first, answers("Second answer about pears.", 1));
    const page = await h.newPage();
    await page.goto(`${h.t.url}/agents`);
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Tell me about apples");
    await input.press("Enter");
    await page.locator(".row-assistant .markdown", { hasText: "First answer about apples." }).waitFor({ timeout: 15_000 });
    await page.locator(".status-pill", { hasText: "Waiting for you" }).waitFor();

    await page.locator(".row-user", { hasText: "Tell me about apples" }).hover();
    await page.getByRole("button", { name: "Edit message" }).click();
    const editor = page.getByRole("textbox", { name: "Edit message" });
    await editor.fill("Tell me about pears");
    await page.getByRole("button", { name: "Save and resend" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit this message?" });
    await dialog.waitFor();
    await h.screenshot(page, "chat-edit-confirm");
    await dialog.getByRole("button", { name: "Edit and resend" }).click();

    await page.locator(".row-assistant .markdown", { hasText: "Second answer about pears." }).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByText("First answer about apples.").count()).toBe(0);
    expect(await page.locator(".row-user .user-text").allInnerTexts()).toEqual(["Tell me about pears"]);
    // The model was asked about the edited text, not the original.
    const last = h.mock.requests.filter((request) => request.stream).at(-1);
    expect(JSON.stringify(last?.body)).toContain("Tell me about pears");
    expect(JSON.stringify(last?.body)).not.toContain("Tell me about apples");
  });
});
