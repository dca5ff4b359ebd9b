import { type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { test, expect, hydrated } from "./fixtures";
import { SIGNED_OUT } from "./session";

// JavaScript on: the confirmation is a modal dialog, the new token has a copy button, and the
// login, account and audit views pass axe in both themes.

async function noSeriousViolations(page: Page, theme: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${theme}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad).toEqual([]);
}

test("the confirmation opens as a modal dialog in place; Esc cancels it", async ({ page }) => {
  await page.goto("/account");
  await hydrated(page);
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(request.url());
  });
  await page.getByRole("link", { name: "Log out everywhere…" }).click();
  await expect(page).toHaveURL(/\/account\?confirm=logout-everywhere$/);
  const dialog = page.getByRole("dialog", { name: "Log out everywhere?" });
  await expect(dialog).toBeVisible();
  expect(await dialog.evaluate((element) => element.matches(":modal"))).toBe(true);
  await expect(dialog.getByRole("button", { name: "Log out everywhere" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("dialog")).toHaveCount(0);
  expect(documents).toEqual([]); // no page load: opened and closed in place
});

test("a new token can be copied with one click", async ({ page }, testInfo) => {
  const name = `e2e-copy-${testInfo.project.name}-${Date.now()}`;
  await page.goto("/account");
  await hydrated(page);
  const tokens = page.getByRole("region", { name: "API tokens" });
  await tokens.getByLabel("Name").fill(name);
  await tokens.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token")).toContainText(name);
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  await page.locator(`tr[data-token="${name}"]`).getByRole("link", { name: /^Revoke/ }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
  await expect(page.locator(`tr[data-token="${name}"]`)).toHaveCount(0);
});

for (const path of ["/account", "/account?confirm=logout-everywhere", "/audit"]) {
  test(`${path} has no serious or critical accessibility violations (both themes)`, async ({ page, baseURL }) => {
    for (const theme of ["light", "dark"]) {
      await page.context().addCookies([{ name: "plb_theme", value: theme, url: baseURL! }]);
      await page.goto(path);
      await hydrated(page);
      await noSeriousViolations(page, theme);
    }
  });
}

test.describe("signed out", () => {
  test.use({ storageState: SIGNED_OUT });

  test("the login page hydrates without errors and opens no live channel", async ({ page }) => {
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("websocket", (socket) => problems.push(`websocket: ${socket.url()}`));
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto("/login");
    await hydrated(page);
    await page.waitForLoadState("networkidle");
    await expect(page.getByLabel("User name")).toBeFocused();
    expect(problems).toEqual([]);
  });
  test("/login has no serious or critical accessibility violations (both themes)", async ({ page, baseURL }) => {
    for (const theme of ["light", "dark"]) {
      await page.context().addCookies([{ name: "plb_theme", value: theme, url: baseURL! }]);
      await page.goto("/login?error=bad_credentials");
      await hydrated(page);
      await noSeriousViolations(page, theme);
    }
  });
});
