import { expect, type Locator, type Page } from "@playwright/test";

/**
 * Opens the Configuration view and returns its text area. With JavaScript on, returns only once
 * the editor itself runs (its Validate button shows, an effect of the editor's own), not only the
 * app: a CI-like run once saved the unedited text after typing into the editor right after
 * `<html data-hydrated>`, for a reason not found yet.
 */
export async function openConfigEditor(page: Page, javaScriptEnabled: boolean | undefined): Promise<Locator> {
  await page.goto("/config");
  if (javaScriptEnabled !== false) await expect(page.getByTestId("config-validate")).toBeVisible();
  return page.getByTestId("config-text");
}
