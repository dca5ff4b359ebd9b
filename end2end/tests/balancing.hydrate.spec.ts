import { test, expect } from "./fixtures";

// The what-if on the demo's fixed cluster: changing a setting, or putting a node into
// maintenance, shows that plan beside today's before anything is saved, and nothing is written.

test("a what-if change alters the plan before saving and writes nothing", async ({ page }) => {
  const settings = async () => (await (await page.request.get("/api/balancing/settings")).json()) as {
    digest: string;
    settings: { balanciness: number };
  };
  const before = await settings();
  await page.goto("/balancing");
  const today = await page.getByTestId("plan-today").locator("li[data-guest]").count();
  expect(today).toBeGreaterThan(0);
  // A balanciness of 100 points: no spread can exceed it.
  await page.getByTestId("field-balanciness").fill("100");
  const whatIf = page.getByTestId("balancing-whatif");
  await expect(whatIf.getByTestId("whatif-candidate")).toBeVisible();
  await expect(whatIf.getByTestId("whatif-today").locator("li[data-guest]")).toHaveCount(today);
  // The candidate is planned with its own settings (the demo's moves are forced by a violated
  // anti-affinity rule, so the same guests may still move).
  await expect(whatIf.getByTestId("whatif-candidate")).toContainText("balanciness 100 points");
  await expect(whatIf.getByTestId("whatif-summary")).toBeVisible();
  // Nothing saved: the file is as it was.
  const after = await settings();
  expect(after.digest).toBe(before.digest);
  expect(after.settings.balanciness).toBe(before.settings.balanciness);
});

test("a what-if node in maintenance is emptied in the candidate plan and nothing is written", async ({ page }) => {
  const digest = async () => ((await (await page.request.get("/api/balancing/settings")).json()) as { digest: string }).digest;
  const before = await digest();
  await page.goto("/balancing");
  const whatIf = page.getByTestId("balancing-whatif");
  const nodes = whatIf.getByTestId("whatif-nodes");
  await nodes.locator("summary").click();
  const row = nodes.locator("tbody tr").first();
  const node = (await row.getAttribute("data-node")) as string;
  expect(node).toBeTruthy();
  await row.getByTestId("whatif-maintenance").check();
  const candidate = whatIf.getByTestId("whatif-candidate");
  await expect(candidate).toBeVisible();
  await expect(candidate.getByTestId("plan-bars").locator(`tr[data-node="${node}"] th`)).toContainText("(maintenance)");
  await expect(whatIf.getByTestId("whatif-today").getByTestId("plan-bars").locator(`tr[data-node="${node}"] th`)).not.toContainText("(maintenance)");
  // Its guests leave it in the candidate plan: the summary counts a difference.
  await expect(whatIf.getByTestId("whatif-summary")).toContainText("With your changes");
  expect(await digest()).toBe(before);
});
