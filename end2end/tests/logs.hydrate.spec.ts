import { type Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";
import { logHas, migrateSomeVm, proxlbRunning, proxmoxApi } from "./proxlb";

// What needs the live channel: log lines arriving, pause and follow, the countdown ticking, a
// migration appearing in the dashboard's feed, all without reloading the page.

/** Records full page loads from now on. */
function documentLoads(page: Page): string[] {
  const loads: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") loads.push(request.url());
  });
  return loads;
}

test("live log lines appear without a reload, and pause holds them", async ({ page }) => {
  test.setTimeout(90_000);
  await proxlbRunning(page);
  await logHas(page, "Using config path");
  await page.goto("/logs");
  await hydrated(page);
  const loads = documentLoads(page);
  const lines = page.locator(".plb-log-line");
  const newest = async () => Number(await lines.last().getAttribute("data-seq"));
  const before = await newest();
  await expect(page.getByTestId("logs-dropped")).toHaveText("0 lines dropped");

  // A restart makes ProxLB log at once ("Using config path", "API connection … succeeded").
  const restart = await page.request.post("/api/service/restart");
  expect(restart.status()).toBe(200);
  await expect.poll(newest, { timeout: 30_000 }).toBeGreaterThan(before);
  await expect(page.locator(".plb-log-line", { hasText: "Using config path" }).last()).toBeVisible();

  // Paused, new lines wait; following shows them.
  await page.getByTestId("logs-pause").click();
  await expect(page.getByTestId("logs-pause")).toHaveAttribute("aria-pressed", "true");
  const shown = await newest();
  await page.request.post("/api/service/restart");
  await expect(page.locator(".plb-logs__held")).toContainText(/Paused: [1-9]\d* new lines? waiting/, { timeout: 30_000 });
  expect(await newest()).toBe(shown);
  await page.getByTestId("logs-pause").click();
  await expect.poll(newest).toBeGreaterThan(shown);
  expect(loads).toEqual([]);
});

test("a live line that does not match the filter stays out", async ({ page }) => {
  test.setTimeout(90_000);
  await proxlbRunning(page);
  await page.goto("/logs?q=API%20connection");
  await hydrated(page);
  const lines = page.locator(".plb-log-line");
  const count = await lines.count();
  await page.request.post("/api/service/restart");
  // Each start logs "API connection to host … succeeded." once, plus lines that do not match.
  await expect(lines).toHaveCount(count + 1, { timeout: 30_000 });
  for (const text of await lines.allTextContents()) expect(text).toContain("API connection");
  await expect(lines.last().locator("mark")).toHaveText("API connection");
});

test("the countdown to the next run counts down", async ({ page }) => {
  test.setTimeout(120_000);
  await proxlbRunning(page);
  await page.goto("/");
  await hydrated(page);
  const countdown = page.getByTestId("service-card").getByTestId("run-countdown");
  await expect(countdown).toHaveAttribute("data-state", "sleeping", { timeout: 90_000 });
  const headline = countdown.locator(".plb-countdown__headline");
  await expect(headline).toHaveText(/^Next run in (\d+m )?\d+s$/);
  const first = await headline.textContent();
  await expect(headline).not.toHaveText(first!);
});

test("a migration appears in the dashboard's feed as it happens", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/");
  await hydrated(page);
  const loads = documentLoads(page);
  const items = page.locator(".plb-feed__item");
  const ids = async () => (await items.evaluateAll((all) => all.map((item) => Number(item.getAttribute("data-id")))));
  const newestBefore = Math.max(0, ...(await ids()));
  const api = await proxmoxApi();
  try {
    const guest = await migrateSomeVm(api);
    // A new record (a higher id) for that guest, live.
    const newId = async () =>
      (await items.evaluateAll((all) => all.map((item) => [Number(item.getAttribute("data-id")), item.getAttribute("data-guest")] as const)))
        .filter(([id, name]) => id > newestBefore && name === guest)
        .map(([id]) => id)[0] ?? 0;
    await expect.poll(newId, { timeout: 60_000, message: `a new feed item for ${guest}` }).toBeGreaterThan(newestBefore);
    const item = items.and(page.locator(`[data-id="${await newId()}"]`));
    await expect(item).toContainText(guest);
    await expect(item).toHaveAttribute("data-outcome", "succeeded", { timeout: 60_000 });
  } finally {
    await api.dispose();
  }
  expect(loads).toEqual([]);
});
