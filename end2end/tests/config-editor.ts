import { expect, type Locator, type Page } from "@playwright/test";

/**
 * Opens the Configuration view and returns its text area. With JavaScript on, returns only once
 * the editor itself has hydrated (its Validate button shows): the editor hydrates after the page
 * shell, once its data resolves, and text typed into the server-rendered text area before then
 * is replaced by the file as loaded.
 */
export async function openConfigEditor(page: Page, javaScriptEnabled: boolean | undefined): Promise<Locator> {
  await page.goto("/config");
  if (javaScriptEnabled !== false) await expect(page.getByTestId("config-validate")).toBeVisible();
  return page.getByTestId("config-text");
}
