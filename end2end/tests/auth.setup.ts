import { mkdirSync } from "node:fs";
import path from "node:path";
import { test as setup, expect } from "@playwright/test";
import { DEMO_STATE } from "./session";

// Runs once before every other project: logs in with the demo's one-click button and saves the
// session, which every other test starts with (JavaScript on and off). Two setup projects run it,
// one per server; each names in its metadata where to save the session.
setup("log in once as the demo user", async ({ page }, testInfo) => {
  const state = (testInfo.project.metadata?.storageState as string | undefined) ?? DEMO_STATE;
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveURL(/\/login$/);
  await page.getByRole("button", { name: "Log in as the demo user" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("user-name")).not.toBeEmpty();
  mkdirSync(path.dirname(state), { recursive: true });
  await page.context().storageState({ path: state });
});
