import { test, expect } from "./fixtures";

// "Ask real ProxLB" on the demo's fixed cluster, where ProxLB does not run: the panel asks for
// the estimate first and says why ProxLB cannot be asked, and nothing starts.

test("ask real ProxLB says why it is unavailable where ProxLB does not run", async ({ page }) => {
  await page.goto("/balancing");
  const panel = page.getByTestId("ask-proxlb");
  await expect(panel).toContainText("the saved settings");
  await panel.getByTestId("ask-button").click();
  await expect(panel.getByTestId("ask-unavailable")).toContainText("ProxLB does not run in this demo");
  await expect(panel.getByTestId("ask-confirm")).toHaveCount(0);
  const slot = await (await page.request.get("/api/balancing/ask-proxlb")).json();
  expect(slot.status.state).toBe("idle");
});
