import { describe, expect, it } from "vitest";
import type { MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { useBrowserHarness, expectNoSeriousA11yViolations } from "./harness.js";
import { localTemplateId } from "../helpers/workspace-chat.js";
import { field } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const h = useBrowserHarness();

/** A 1×1 PNG, so the upload's sniffing sees a real image. */
const PIXEL_PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

const ANSWER = "The command printed **hello-from-workspace**.\n\n```sh\necho hello-from-workspace\n```\n\nAll done.";

/**
 * Model turns: an execute call, then a streamed answer; title requests (not streamed) get a title.
 * The answer is held until `releaseAnswer` is called, so the test sees the live row while it
 * streams however slowly the browser rendered the tool card before it.
 */
function script(): { turn: (request: RecordedRequest) => Promise<MockTurn>; releaseAnswer: () => void } {
  let step = 0;
  let releaseAnswer = (): void => {};
  const answerReleased = new Promise<void>((resolve) => {
    releaseAnswer = resolve;
  });
  const turn = async (request: RecordedRequest): Promise<MockTurn> => {
    if (!request.stream) return { parts: [{ type: "text", text: "Say hello from the workspace" }] };
    step += 1;
    if (step === 1) return { parts: [{ type: "tool-call", id: "toolu_browser_1", name: "execute", input: { command: "echo hello-from-workspace" } }], usage: { input: 10, output: 2 } };
    await answerReleased;
    return { parts: [{ type: "text", text: ANSWER }], usage: { input: 20, output: 30 }, chunkDelayMs: 60 };
  };
  return { turn, releaseAnswer };
}

async function readyWorkspace(name: string): Promise<string> {
  const templateId = await localTemplateId(h.t, h.owner);
  const created = await h.t.request("/api/v2/workspaces", { method: "POST", token: h.owner.token, body: { template_id: templateId, name } });
  const id = field(created.body, "id");
  if (created.status !== 201 || typeof id !== "string") throw new Error(`workspace create failed: ${created.text}`);
  await waitFor(
    async () => {
      const workspace = await h.t.request(`/api/v2/workspaces/${id}`, { token: h.owner.token });
      return field(workspace.body, "status") === "running" && field(field(workspace.body, "agent"), "status") === "connected";
    },
    { timeoutMs: 30_000, intervalMs: 100, message: "workspace ready" },
  );
  return id;
}

describe("a chat in the browser", () => {
  it("starts a chat with an image in a workspace, shows the execute card with its output, and streams the answer", async () => {
    await readyWorkspace("browser-ws");
    const { turn, releaseAnswer } = script();
    h.mock.enqueue(turn, turn, turn, turn);
    const page = await h.newPage();
    await page.goto(`${h.t.url}/agents`);
    await page.getByRole("heading", { name: /What should the agent work on/ }).waitFor();
    await page.getByLabel("Workspace").selectOption({ label: "browser-ws · running" });
    await page.getByTestId("attach-input").setInputFiles({ name: "pixel.png", mimeType: "image/png", buffer: PIXEL_PNG });
    await page.getByRole("img", { name: "pixel.png" }).waitFor();
    // A file that is not an image is refused before upload, in words.
    await page.getByTestId("attach-input").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
    await expect.poll(async () => (await page.getByRole("alert").first().textContent()) ?? "").toMatch(/only PNG, JPEG, GIF and WebP/);

    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill("Say hello");
    await input.press("Shift+Enter");
    await input.pressSequentially("from the workspace");
    expect(await input.inputValue()).toBe("Say hello\nfrom the workspace");
    await expect.poll(() => page.getByRole("button", { name: "Send message" }).isEnabled()).toBe(true);
    await input.press("Enter");

    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    const chatId = page.url().split("/").pop() ?? "";
    // The user's message with its image, then the tool card with the command's real output.
    await page.locator(".row-user .user-text", { hasText: "from the workspace" }).waitFor();
    await page.locator(".row-user img").waitFor();
    const card = page.locator('.tool-card[data-tool="execute"]');
    await card.locator(".execute-output", { hasText: "hello-from-workspace" }).waitFor({ timeout: 30_000 });
    await expect.poll(() => card.locator(".badge").textContent()).toBe("exit 0");
    // The answer streams in (the live row exists before the step is persisted) and ends as markdown.
    const liveRowSeen = page.locator(".row-live").waitFor({ timeout: 20_000 });
    releaseAnswer();
    await liveRowSeen;
    await page.locator(".markdown strong", { hasText: "hello-from-workspace" }).first().waitFor();
    await page.locator(".row-assistant .markdown", { hasText: "All done." }).waitFor({ timeout: 20_000 });
    await expect.poll(async () => page.locator(".row-live").count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator(".markdown", { hasText: "All done." }).count()).toBe(1);
    // The sidebar shows the chat, live, with its generated title.
    await page.getByRole("link", { name: /Say hello from the workspace/ }).waitFor({ timeout: 10_000 });
    await h.screenshot(page, "chat-with-tool-cards");
    await expectNoSeriousA11yViolations(page);

    // The CLI prints /agents/<id>: a fresh, signed-in browser opens the chat there, dark theme too.
    const dark = await h.newPage(h.owner, { colorScheme: "dark" });
    await dark.goto(`${h.t.url}/agents/${chatId}`);
    await dark.locator(".row-assistant .markdown", { hasText: "All done." }).waitFor();
    await h.screenshot(dark, "chat-with-tool-cards-dark");
    await expectNoSeriousA11yViolations(dark);
    // The back button returns to where the reader came from.
    await dark.getByRole("link", { name: "New agent" }).click();
    await dark.getByRole("heading", { name: /What should the agent work on/ }).waitFor();
    await dark.goBack();
    await dark.locator(".row-assistant .markdown", { hasText: "All done." }).waitFor();
  });
});
