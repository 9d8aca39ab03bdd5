import { describe, expect, it } from "vitest";
import { useBrowserHarness, expectNoSeriousA11yViolations } from "./harness.js";

const h = useBrowserHarness({ noOwner: true });

describe("first run and sign-in", () => {
  it("creates the owner on a fresh server, signs out, and signs back in by username and by email", async () => {
    const page = await h.newPage(null);
    await page.goto(`${h.t.url}/`);
    await page.getByRole("heading", { name: "Welcome to chatd" }).waitFor();
    await expectNoSeriousA11yViolations(page);
    await h.screenshot(page, "setup");

    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Full name").fill("Ada Lovelace");
    await page.getByLabel("Password").fill("x");
    await page.getByRole("button", { name: "Create account" }).click();
    // The server's validation message, in words.
    await expect.poll(async () => (await page.getByRole("alert").textContent()) ?? "").toMatch(/password/i);

    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: /What should the agent work on, Ada\?/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/agents");
    await h.screenshot(page, "empty-state");
    await expectNoSeriousA11yViolations(page);

    await page.getByRole("button", { name: /^Account menu/ }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();

    // Setup is closed now: it sends visitors to the login page.
    await page.goto(`${h.t.url}/setup`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();

    await page.getByLabel("Username or email").fill("ada");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(async () => (await page.getByRole("alert").textContent()) ?? "").toMatch(/incorrect|invalid/i);
    await h.screenshot(page, "login-error");

    await page.getByLabel("Username or email").fill("ada@example.com");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: /What should the agent work on/ }).waitFor();
  });

  it("sends a signed-out visitor of a deep link through login and back to it", async () => {
    const page = await h.newPage(null);
    await page.goto(`${h.t.url}/settings/tokens`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("Username or email").fill("ada");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "API tokens" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/settings/tokens");
  });
});
