import { test, expect } from "./fixtures";
import { logHas, proxlbRunning, status } from "./proxlb";

// The Logs view, the dashboard's ProxLB card and the Migrations view against the demo's real
// ProxLB 2.3.0, with JavaScript on and off: filter and search through the URL, highlight,
// download, the countdown, the migration history.

test("the level filter and the search narrow the log and mark the matches", async ({ page }) => {
  test.setTimeout(120_000);
  await proxlbRunning(page);
  // Every run ends with "Daemon mode active: Next run in: 1 minutes." (INFO).
  await logHas(page, "Next run in");
  await page.goto("/logs");
  await expect(page.locator(".plb-log-line").first()).toBeVisible();

  await page.getByLabel("Search").fill("next RUN");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/\/logs\?.*\bq=next(\+|%20)RUN\b/);
  // The URL changes before the filtered lines arrive (with JavaScript on, the view asks the
  // server after the navigation): the count says "matching" once they are shown.
  await expect(page.getByTestId("logs-count")).toContainText("matching");
  const lines = page.locator(".plb-log-line");
  await expect(lines.first()).toBeVisible();
  for (const text of await lines.allTextContents()) expect(text.toLowerCase()).toContain("next run");
  await expect(lines.first().locator("mark")).toHaveText("Next run");

  await page.getByLabel("Level").selectOption("warning");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/level=warning/);
  // Next run lines are INFO: none is WARNING or above.
  await expect(page.getByTestId("logs-count")).toHaveText("No lines match these filters.");
  await expect(page.getByTestId("logs-download")).toHaveAttribute("href", /\/api\/logs\/raw\?level=warning&search=next/);

  await page.goto("/logs?level=warning");
  const levels = await page.locator(".plb-log-line").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-level")));
  for (const level of levels) expect(["WARNING", "ERROR", "CRITICAL", "TRACEBACK"]).toContain(level);
});

test("the download is the log as text with the view's filters", async ({ page }) => {
  await proxlbRunning(page);
  await logHas(page, "Using config path");
  await page.goto("/logs?q=config%20path");
  const href = await page.getByTestId("logs-download").getAttribute("href");
  expect(href).toBe("/api/logs/raw?search=config%20path");
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("text/plain");
  const text = await response.text();
  expect(text).toContain("ProxLB - INFO - Using config path:");
  expect(text).not.toContain("Next run in");
});

test("the dashboard's ProxLB card shows the service, the countdown and the last run", async ({ page }) => {
  test.setTimeout(120_000);
  await proxlbRunning(page);
  await expect.poll(async () => (await status(page)).run.state, { timeout: 90_000 }).toBe("sleeping");
  await page.goto("/");
  const card = page.getByTestId("service-card");
  await expect(card.getByTestId("service-state")).toHaveAttribute("data-state", "running");
  await expect(card.getByTestId("service-version")).toHaveText("ProxLB 2.3.0");
  const countdown = card.getByTestId("run-countdown");
  await expect(countdown).toHaveAttribute("data-state", /sleeping|running/);
  await expect(countdown).toContainText(/Next run in \d+s|Running now/);
  await expect(card.getByTestId("last-run")).not.toBeEmpty();
});

test("migrations fill the history with outcome, duration, initiator and task", async ({ page }) => {
  test.setTimeout(180_000);
  await proxlbRunning(page);
  // The demo's cluster starts unbalanced and drifts after every quiet run: ProxLB migrates.
  await expect
    .poll(async () => ((await (await page.request.get("/api/migrations?outcome=succeeded")).json()) as { total: number }).total, {
      timeout: 150_000,
      message: "a succeeded migration in the history",
    })
    .toBeGreaterThan(0);
  await page.goto("/migrations");
  await page.getByLabel("Outcome").selectOption("succeeded");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/outcome=succeeded/);
  const row = page.locator("tbody tr").first();
  await expect(row).toHaveAttribute("data-outcome", "succeeded");
  await expect(row.locator(".plb-upid")).toContainText(/^UPID:/);
  await expect(row.locator("td.plb-num").nth(1)).toHaveText(/^\d+(m|s)/);
  await page.goto("/");
  await expect(page.getByTestId("migrations-feed").locator(".plb-feed__item").first()).toBeVisible();
});
