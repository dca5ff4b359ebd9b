import { test, expect } from "./fixtures";
import { logIn, PVE_USERS, SIGNED_OUT } from "./session";
import { proxlbRunning, status } from "./proxlb";

// The Service view against the demo's real ProxLB 2.3.0 (process backend), with JavaScript on
// and off: state, version and backend; restart after a confirmation; cancel; viewers.

test("the Service view shows ProxLB running, its version and how it runs", async ({ page }) => {
  await proxlbRunning(page);
  await page.goto("/service");
  const panel = page.getByTestId("service-panel");
  await expect(panel.getByTestId("service-state")).toHaveAttribute("data-state", "running");
  await expect(panel.getByTestId("service-version")).toHaveText("ProxLB 2.3.0");
  await expect(panel.getByTestId("service-backend")).toHaveText("Local process");
  await expect(panel.getByTestId("service-target")).toContainText("-m proxlb");
  await expect(panel).toContainText("after its current sleep ends (12 hours by default)");
  // Start is offered only to a stopped ProxLB.
  await expect(panel.getByRole("button", { name: "Start…", exact: true })).toBeDisabled();
});

test("restart from the UI asks first, then restarts ProxLB and is audited", async ({ page }) => {
  test.setTimeout(90_000);
  await proxlbRunning(page);
  const before = (await status(page)).service.pid;
  expect(before).not.toBeNull();
  await page.goto("/service");
  await page.getByRole("link", { name: "Restart…" }).click();
  const dialog = page.getByRole("dialog", { name: "Restart ProxLB?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("runs a balancing pass at once");
  // Nothing happened yet.
  expect((await status(page)).service.pid).toBe(before);
  await dialog.getByRole("button", { name: "Restart", exact: true }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.getByTestId("service-outcome")).toContainText("ProxLB was restarted");
  await expect(page.getByTestId("service-state")).toHaveAttribute("data-state", "running");
  await expect.poll(async () => (await status(page)).service.pid).not.toBe(before);
  await page.goto("/audit?action=service_action");
  await expect(page.locator("tr[data-action=service_action]").first()).toContainText("restart");
});

test("cancelling the confirmation leaves ProxLB alone", async ({ page }) => {
  await proxlbRunning(page);
  const before = (await status(page)).service.pid;
  await page.goto("/service");
  await page.getByRole("link", { name: "Stop…" }).click();
  const dialog = page.getByRole("dialog", { name: "Stop ProxLB?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("link", { name: "Cancel" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page).toHaveURL(/\/service$/);
  const after = await status(page);
  expect(after.service.state).toBe("running");
  expect(after.service.pid).toBe(before);
});

test.describe("as a viewer", () => {
  test.use({ storageState: SIGNED_OUT });

  test("the actions are disabled and say why", async ({ page }) => {
    await logIn(page, PVE_USERS.auditor, "/service");
    await expect(page.getByTestId("service-state")).toBeVisible();
    await expect(page.getByTestId("service-viewer-note")).toContainText("Only operators");
    for (const name of ["Start…", "Stop…", "Restart…", "Reload…"]) {
      await expect(page.getByRole("button", { name, exact: true })).toBeDisabled();
    }
    await expect(page.getByRole("link", { name: "Restart…", exact: true })).toHaveCount(0);
    // A confirmation URL opens nothing for a viewer.
    await page.goto("/service?confirm=restart");
    await expect(page.getByRole("dialog")).toHaveCount(0);
  });
});
