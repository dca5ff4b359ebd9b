import { test, expect } from "./fixtures";
import { PVE_USERS, SIGNED_OUT } from "./session";

// The audit log view: entries newest first, filters in the URL (a GET form), with JavaScript on
// and off.

test("logins show up in the audit log and the filters narrow it", async ({ page, browser, baseURL }) => {
  // A failed login to find (from a signed-out browser).
  const stranger = await browser.newContext({ storageState: SIGNED_OUT, baseURL });
  const tried = `e2e-nobody-${Date.now()}`;
  try {
    const login = await stranger.newPage();
    await login.goto("/login");
    await login.getByLabel("User name").fill(tried);
    await login.getByLabel("Password").fill("wrong");
    await login.getByLabel("Realm").selectOption("pve");
    await login.getByRole("button", { name: "Log in", exact: true }).click();
    await expect(login.getByRole("alert")).toBeVisible();
  } finally {
    await stranger.close();
  }

  await page.goto("/audit");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Audit log");
  await expect(page.getByTestId("audit-count")).toContainText(/Showing \d+ of \d+ entr/);
  const rows = page.locator("tbody tr");
  await expect(rows.first()).toBeVisible();

  await page.getByLabel("Actor").fill(`${tried}@pve`);
  await page.getByLabel("Action").selectOption("login_failed");
  await page.getByLabel("Result").selectOption("failed");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/\/audit\?actor=.*&action=login_failed&result=failed/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Failed login");
  await expect(rows.first()).toContainText("Failed");
  await expect(page.getByTestId("audit-count")).toHaveText("Showing 1 of 1 matching entry");

  // The demo user's logins succeeded.
  await page.goto("/audit?action=login_succeeded&result=ok");
  await expect(page.getByLabel("Action")).toHaveValue("login_succeeded");
  await expect(rows.first()).toContainText("Login");
  await expect(rows.first()).toContainText("Succeeded");

  // A date in the future matches nothing.
  await page.goto("/audit?since=2999-01-01");
  await expect(page.getByTestId("audit-count")).toHaveText("No entries match these filters.");
  await expect(page.getByLabel("Since (UTC)")).toHaveValue("2999-01-01");
});

test("the audit log pages through older entries", async ({ page, baseURL }) => {
  // More than one page (50) of entries: 26 tokens created and revoked through the REST API.
  const origin = { Origin: baseURL! };
  for (let i = 0; i < 26; i++) {
    const created = await page.request.post("/api/tokens", {
      headers: origin,
      data: { name: `e2e-page-${Date.now()}-${i}`, scope: "read" },
    });
    expect(created.status()).toBe(201);
    const { info } = await created.json();
    expect((await page.request.delete(`/api/tokens/${info.id}`, { headers: origin })).status()).toBe(204);
  }
  await page.goto("/audit");
  const rows = page.locator("tbody tr");
  await expect(rows).toHaveCount(50);
  const newest = await rows.first().textContent();
  await expect(rows.first()).toContainText("Token revoked");
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/\/audit\?before=\d+$/);
  await expect(rows.first()).toBeVisible();
  await expect(rows.first()).not.toHaveText(newest ?? "");
  await page.getByRole("link", { name: "← Newest" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(rows.first()).toHaveText(newest ?? "");
});

test.describe("as a viewer", () => {
  test.use({ storageState: SIGNED_OUT });
  test("the audit log is readable", async ({ page }) => {
    await page.goto(`/login?next=${encodeURIComponent("/audit")}`);
    await page.getByLabel("User name").fill(PVE_USERS.auditor.username);
    await page.getByLabel("Password").fill(PVE_USERS.auditor.password);
    await page.getByLabel("Realm").selectOption(PVE_USERS.auditor.realm);
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await expect(page).toHaveURL(/\/audit$/);
    await expect(page.locator("tbody tr").first()).toBeVisible();
  });
});
