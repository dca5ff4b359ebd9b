import { test, expect } from "./fixtures";

// The Balancing view on the demo's fixed cluster (ProxLB off), with JavaScript on and off:
// ProxLB's plan with its reasons (the balance test per method, every move's candidate nodes),
// and the guest explainer (a GET form, so it works without JavaScript too).

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
  // Is balancing needed: one line per method with its numbers, and how old the inputs are.
  await expect(plan.getByTestId("plan-checks").locator("li")).toHaveCount(3);
  await expect(plan.getByTestId("plan-checks")).toContainText("balanciness");
  await expect(plan.getByTestId("plan-inputs")).toContainText("CPU/PSI inputs from RRD");
  // Each move has its reasons behind a disclosure: why this guest, why this target, and every
  // candidate node with the rejection that decided.
  const move = plan.getByTestId("plan-moves").locator("li[data-guest]").first();
  await expect(move).toBeVisible();
  await move.locator("summary").click();
  await expect(move.getByTestId("move-why-guest")).toContainText("Why this guest");
  await expect(move.getByTestId("move-why-target")).toContainText("Why this target");
  const candidates = move.getByTestId("move-candidates").locator("tbody tr");
  await expect(candidates).toHaveCount(3);
  await expect(candidates.first()).toContainText("chosen");
  await expect(move.getByTestId("move-candidates")).toContainText("the guest is already there");
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
  await expect(explainer.getByTestId("move-candidates").locator("tbody tr")).toHaveCount(3);

  // A guest that stays says why, with its numbers.
  const planned = (await (await page.request.get("/api/balancing/plan")).json()) as { moves: { guest: string }[] };
  const guests = (await (await page.request.get("/api/guests")).json()) as { guests: { name: string }[] };
  const staying = guests.guests.map((g) => g.name).find((n) => !planned.moves.some((m) => m.guest === n));
  expect(staying).toBeTruthy();
  await page.goto(`/balancing?guest=${staying}`);
  const answer = page.getByTestId("guest-explainer").getByTestId("explain-answer");
  await expect(answer).toContainText(`${staying} (`);
  await expect(answer).toContainText("stays");
  await expect(answer.getByTestId("explain-reasons").locator("li").first()).toBeVisible();

  // An unknown guest is a clear answer, not an error page.
  await page.goto("/balancing?guest=no-such-guest");
  await expect(page.getByTestId("guest-explainer").getByTestId("explain-answer")).toContainText("not found");
});
