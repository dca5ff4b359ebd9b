import { request as playwrightRequest } from "@playwright/test";
import { test, expect } from "./fixtures";

// API tokens in the UI, with JavaScript on and off: create one, see its secret once, use it,
// revoke it after a confirmation, and it stops working at once.

test("create a token, use it, revoke it: it stops working at once", async ({ page, baseURL }, testInfo) => {
  const name = `e2e-${testInfo.project.name}-${Date.now()}`;
  await page.goto("/account");
  const tokens = page.getByRole("region", { name: "API tokens" });
  await tokens.getByLabel("Name").fill(name);
  await tokens.getByLabel("Scope").selectOption("read");
  await tokens.getByLabel("Expires").selectOption("30");
  await tokens.getByRole("button", { name: "Create token" }).click();

  const shown = page.getByTestId("new-token");
  await expect(shown).toContainText(`Token ${name} created (Read-only)`);
  await expect(shown).toContainText("shown only this once");
  const secret = await page.getByTestId("new-token-value").inputValue();
  expect(secret).toMatch(/^plbw_[A-Za-z0-9_-]{40,}$/);
  const row = page.locator(`tr[data-token="${name}"]`);
  await expect(row).toContainText("Read-only");
  await expect(row).toContainText(secret.slice(0, 8));
  await expect(row).not.toContainText(secret.slice(8));

  // Shown once: a reload does not show it again.
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(secret);

  // A client with only the token (no cookies) reads the REST API with it.
  const api = await playwrightRequest.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    const bearer = { Authorization: `Bearer ${secret}` };
    const nodes = await api.get("/api/nodes", { headers: bearer });
    expect(nodes.status()).toBe(200);
    expect((await nodes.json()).nodes).toHaveLength(3);
    // Read-only: it may not write.
    const write = await api.post("/api/tokens", { headers: bearer, data: { name: `${name}-child`, scope: "read" } });
    expect([401, 403]).toContain(write.status());

    await row.getByRole("link", { name: `Revoke ${name}…` }).click();
    const dialog = page.getByRole("dialog", { name: `Revoke the token “${name}”?` });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Revoke token" }).click();
    await expect(page.getByRole("dialog")).toHaveCount(0);
    await expect(page.locator(`tr[data-token="${name}"]`)).toHaveCount(0);

    const after = await api.get("/api/nodes", { headers: bearer });
    expect(after.status()).toBe(401);
  } finally {
    await api.dispose();
  }
});

test("a token name that is taken is refused with a clear message", async ({ page }, testInfo) => {
  const name = `e2e-dup-${testInfo.project.name}-${Date.now()}`;
  await page.goto("/account");
  const tokens = page.getByRole("region", { name: "API tokens" });
  await tokens.getByLabel("Name").fill(name);
  await tokens.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token")).toContainText(name);
  await page.goto("/account");
  await tokens.getByLabel("Name").fill(name);
  await tokens.getByRole("button", { name: "Create token" }).click();
  await expect(tokens.getByRole("alert")).toHaveText("a token with this name exists already");
  // Clean up: revoke it.
  await page.locator(`tr[data-token="${name}"]`).getByRole("link", { name: /^Revoke/ }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
  await expect(page.locator(`tr[data-token="${name}"]`)).toHaveCount(0);
});
