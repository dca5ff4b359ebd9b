import { mkdirSync } from "node:fs";
import path from "node:path";
import { test as setup, expect } from "@playwright/test";
import { DEMO_STATE } from "./session";

// Runs once before every other project: logs in with the demo's one-click button and saves the
// session, which every other test starts with (JavaScript on and off).
setup("log in once as the demo user", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveURL(/\/login$/);
  await page.getByRole("button", { name: "Log in as the demo user" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("user-name")).not.toBeEmpty();
  mkdirSync(path.dirname(DEMO_STATE), { recursive: true });
  await page.context().storageState({ path: DEMO_STATE });
});
