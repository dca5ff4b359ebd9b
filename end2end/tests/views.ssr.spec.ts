import { test, expect } from "./fixtures";

// JavaScript off: the filter form submits like any HTML form.

test("searching without JavaScript submits the form and keeps the query in the URL", async ({ page }) => {
  await page.goto("/guests");
  await page.getByLabel("Search").fill("db");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/\/guests\?q=db/);
  await expect(page.locator("tbody tr")).toHaveCount(2);
  await expect(page.getByTestId("guest-count")).toHaveText("Showing 1–2 of 2 matching guests (12 in all)");
});
