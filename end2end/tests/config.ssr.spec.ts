import { test, expect } from "./fixtures";

// The Configuration view without JavaScript (nojs project only): the editor is a plain form that
// posts the text with the digest it was read at. The JavaScript editor is config.both.spec.ts's.

/** What the editor shows instead of a secret (as in config.both.spec.ts). */
const MASK = "********";

test("without JavaScript the editor is a plain form carrying the digest", async ({ page }) => {
  await page.goto("/config");
  const form = page.locator("form.plb-config__form");
  await expect(form).toHaveAttribute("method", "post");
  await expect(form.locator("input[type=hidden][name=digest]")).toHaveValue(/.+/);
  await expect(form.locator("textarea[name=text]")).toContainText(MASK);
  await form.getByTestId("config-save").click();
  await expect(page).toHaveURL(/\/config\?outcome=(saved|unchanged)/);
});
