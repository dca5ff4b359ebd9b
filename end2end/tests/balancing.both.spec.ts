import { test, expect } from "./fixtures";

// The Balancing view on the demo's fixed cluster (ProxLB off), with JavaScript on and off:
// ProxLB's plan with its reasons, and the guest explainer (a GET form, so it works without
// JavaScript too).

test("the demo's plan shows the verdict, the reasons, node bars and moves with reasons", async ({ page }) => {
  await page.goto("/balancing");
  const plan = page.getByTestId("plan-today");
  await expect(plan).toBeVisible();
  await expect(plan.getByTestId("plan-verdict")).toContainText("ProxLB would migrate");
  // Why: the triggering reason names balanciness with the numbers.
  await expect(plan.getByTestId("plan-reasons")).toContainText("balanciness");
  // A bar per node, before and after.
  await expect(plan.getByTestId("plan-bars").locator("tbody tr")).toHaveCount(3);
  await expect(plan.getByTestId("plan-spread")).toContainText("Spread");
  // Each move has its reasons behind a disclosure.
  const move = plan.getByTestId("plan-moves").locator("li[data-guest]").first();
  await expect(move).toBeVisible();
  await move.locator("summary").click();
  await expect(move.locator(".plb-balancing-moves__reasons li").first()).toBeVisible();
  await expect(move).toContainText("most free");
});

test("the guest explainer says why a planned guest moves and why another stays", async ({ page }) => {
  await page.goto("/balancing");
  const moving = await page.getByTestId("plan-today").locator("li[data-guest]").first().getAttribute("data-guest");
  expect(moving).toBeTruthy();
  const explainer = page.getByTestId("guest-explainer");
  await explainer.getByTestId("explain-query").fill(moving as string);
  await explainer.getByTestId("explain-submit").click();
  await expect(page).toHaveURL(new RegExp(`guest=${moving}`));
  await expect(explainer.getByTestId("explain-answer")).toContainText(`${moving} (`);
  await expect(explainer.getByTestId("explain-answer")).toContainText("moves to");

  // An unknown guest is a clear answer, not an error page.
  await page.goto("/balancing?guest=no-such-guest");
  await expect(page.getByTestId("guest-explainer").getByTestId("explain-answer")).toContainText("not found");
});
