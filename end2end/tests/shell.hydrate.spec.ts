import { test, expect, hydrated } from "./fixtures";
import { VIEWS } from "./routes";

// JavaScript on: hydration, client-side navigation, the live channel, a clean console.

test("navigation is client-side after hydration (no full reload)", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { plbMarker: number }).plbMarker = 42));
  for (const view of VIEWS.slice(1)) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: view.label, exact: true }).click();
    await expect(page).toHaveURL(view.path);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(view.label);
    await expect(page).toHaveTitle(`${view.label} · ProxLB Web`);
  }
  const marker = await page.evaluate(() => (window as unknown as { plbMarker?: number }).plbMarker);
  expect(marker).toBe(42);
});

test("the theme switch applies at once without a round trip", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const requests: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  await page.getByRole("button", { name: "Light" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(page.getByRole("button", { name: "Light" })).toHaveAttribute("aria-pressed", "true");
  expect(requests.filter((url) => url.includes("/sfn/set_theme"))).toEqual([]);
});

test("the live channel connects", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toHaveAttribute("data-live", "open");
});

test("no page error, console error or failed request on any route", async ({ page }) => {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("requestfailed", (request) => {
    // A WebSocket torn down by navigation, or a live refresh cancelled because the test navigated
    // away (ERR_ABORTED), is the browser cancelling, not the app failing.
    const error = request.failure()?.errorText ?? "";
    if (!request.url().includes("/ws/") && error !== "net::ERR_ABORTED") problems.push(`failed: ${request.url()} ${error}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  for (const view of VIEWS) {
    await page.goto(view.path);
    await hydrated(page);
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toHaveAttribute("data-live", "open");
  }
  expect(problems).toEqual([]);
});
