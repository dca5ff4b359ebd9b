import { expect, type Locator, type Page } from "@playwright/test";

/**
 * Opens the Configuration view and returns its text area. With JavaScript on, returns only once
 * the editor itself has hydrated (its Validate button shows, an effect of the editor's own): the
 * editor sits in a transition over its data and may hydrate after `<html data-hydrated>`, and
 * text typed into the server-rendered text area before then is replaced by the file as loaded
 * (a CI run saved the unedited text that way).
 */
export async function openConfigEditor(page: Page, javaScriptEnabled: boolean | undefined): Promise<Locator> {
  await page.goto("/config");
  if (javaScriptEnabled !== false) await expect(page.getByTestId("config-validate")).toBeVisible();
  return page.getByTestId("config-text");
}
