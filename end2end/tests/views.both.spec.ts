import { test, expect } from "./fixtures";

// Cluster views against the embedded demo cluster, with JavaScript on and off.

test("the dashboard shows health, node load and ProxLB's verdict", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("demo-banner")).toBeVisible();
  const health = page.getByRole("region", { name: "Cluster health" });
  await expect(health).toContainText("Quorate");
  await expect(health).toContainText("3 / 3");
  await expect(page.getByTestId("verdict")).toContainText("ProxLB would migrate");
  await expect(page.getByTestId("spread")).toContainText("limit 10 points");
  await expect(page.locator(".plb-node-card")).toHaveCount(3);
  await expect(page.getByRole("meter", { name: "pve1 memory" })).toBeVisible();
});

test("the nodes table lists every node with its guests", async ({ page }) => {
  await page.goto("/nodes");
  const rows = page.locator("tbody tr");
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText("pve1");
  await expect(rows.first()).toContainText("online");
  await expect(rows.first()).toContainText("6 / 6");
  await page.getByRole("link", { name: "pve3", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("pve3");
  await expect(page.getByRole("heading", { name: /Guests on pve3/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /^pve3 from .* CPU .* memory/ })).toBeVisible();
});

test("an unknown node answers 404 with the not-found page", async ({ page }) => {
  const response = await page.goto("/nodes/pve9");
  expect(response?.status()).toBe(404);
  await expect(page).toHaveTitle("Node not found · ProxLB Web");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Node not found");
  await expect(page.getByRole("main")).toContainText('There is no node "pve9" in this cluster.');
});

test("guest filters are a GET form: they work without JavaScript and live in the URL", async ({ page }) => {
  await page.goto("/guests");
  await expect(page.getByTestId("guest-count")).toHaveText("Showing 1–12 of 12 guests");
  await page.goto("/guests?kind=ct&status=running");
  await expect(page.locator("tbody tr")).toHaveCount(3);
  await expect(page.getByLabel("Type")).toHaveValue("ct");
  await page.goto("/guests?tag=pin");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.locator("tbody tr")).toContainText("app01");
  await page.goto("/guests?sort=mem&dir=desc");
  await expect(page.locator("tbody tr").first()).toContainText("db01");
  await page.goto("/guests?node=pve3");
  await expect(page.getByLabel("Node")).toHaveValue("pve3");
  await expect(page.locator("tbody tr")).toHaveCount(2);
});

test("the rules view lists groups, pins, ignores and HA rules", async ({ page }) => {
  await page.goto("/rules");
  await expect(page.getByRole("region", { name: /Affinity groups/ })).toContainText("plb_affinity_web");
  await expect(page.getByRole("region", { name: /Anti-affinity groups/ })).toContainText("db01, db02");
  await expect(page.getByRole("region", { name: /Pinned guests/ })).toContainText("pve2 (tag plb_pin_pve2)");
  await expect(page.getByRole("region", { name: /Ignored guests/ })).toContainText("legacy01");
  await expect(page.getByRole("region", { name: /Proxmox HA rules/ })).toContainText("db-on-big-nodes");
});
