import { test, expect } from "./fixtures";

// "Ask real ProxLB" against the demo's real ProxLB 2.3.0: the estimate ("about N requests to
// <host>") is shown and confirmed first, then the run's progress, then ProxLB's plan beside
// ProxLB Web's with every guest's agreement marked. A dry run: nothing migrates.

test("ask real ProxLB shows the estimate, asks, and shows ProxLB's plan beside the native one", async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto("/balancing");
  const panel = page.getByTestId("ask-proxlb");
  await panel.getByTestId("ask-button").click();
  const confirm = panel.getByTestId("ask-confirm");
  await expect(confirm.getByTestId("ask-estimate")).toContainText(/This sends about \d+ requests to /);
  // Nothing started before the confirmation.
  expect((await (await page.request.get("/api/balancing/ask-proxlb")).json()).status.state).not.toBe("running");
  await confirm.getByTestId("ask-confirm-button").click();
  await expect(panel.getByTestId("ask-verdict")).toContainText(/Real ProxLB (agrees with|differs from) ProxLB Web/, {
    timeout: 150_000,
  });
  const rows = panel.getByTestId("ask-moves").locator("tr[data-agreement]");
  const none = panel.getByTestId("ask-no-moves");
  await expect(rows.or(none).first()).toBeVisible();
  for (const agreement of await rows.evaluateAll((r) => r.map((e) => e.getAttribute("data-agreement")))) {
    expect(["same", "different target", "only ProxLB", "only native"]).toContain(agreement);
  }
});
