import { test, expect, hydrated } from "./fixtures";
import AxeBuilder from "@axe-core/playwright";
import { simulatorAdmin } from "./sim";
import { VIEWS } from "./routes";

test("typing filters in memory, keeps the query in the URL and survives a reload", async ({ page }) => {
  await page.goto("/guests");
  await hydrated(page);
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(request.url());
  });
  await page.getByLabel("Search").pressSequentially("web");
  await expect(page).toHaveURL(/\/guests\?q=web$/);
  await expect(page.locator("tbody tr")).toHaveCount(2);
  await page.getByLabel("Type").selectOption("vm");
  await expect(page).toHaveURL(/kind=vm/);
  await page.getByRole("link", { name: /^Name/ }).click();
  await expect(page).toHaveURL(/sort=name/);
  expect(documents).toEqual([]); // no page load while filtering
  await page.reload();
  await expect(page.getByLabel("Search")).toHaveValue("web");
  await expect(page.locator("tbody tr")).toHaveCount(2);
});

test("a Proxmox outage shows the stale banner live and it clears on recovery", async ({ page }) => {
  const admin = await simulatorAdmin();
  try {
    await page.goto("/nodes");
    await hydrated(page);
    await expect(page.getByTestId("stale-banner")).toHaveCount(0);
    const rows = page.locator("tbody tr");
    await expect(rows).toHaveCount(3);
    const added = await admin.post("/_sim/faults", { data: { route: "GET /cluster/resources", status: 503 } });
    expect(added.ok()).toBeTruthy();
    await expect(page.getByTestId("stale-banner")).toBeVisible({ timeout: 15_000 });
    await expect(page.getByTestId("stale-banner")).toContainText("127.0.0.1");
    await expect(rows).toHaveCount(3); // the last good data stays
  } finally {
    await admin.delete("/_sim/faults");
    await admin.dispose();
  }
  await expect(page.getByTestId("stale-banner")).toHaveCount(0, { timeout: 15_000 });
});

for (const view of [...VIEWS, { path: "/nodes/pve1", label: "pve1" }, { path: "/guests?q=db", label: "Guests" }]) {
  test(`${view.path} has no serious or critical accessibility violations (both themes)`, async ({ page, baseURL }) => {
    for (const theme of ["light", "dark"]) {
      await page.context().addCookies([{ name: "plb_theme", value: theme, url: baseURL! }]);
      await page.goto(view.path);
      await hydrated(page);
      const results = await new AxeBuilder({ page }).analyze();
      const bad = results.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${theme}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      expect(bad).toEqual([]);
    }
  });
}
