import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect } from "./fixtures";
import { openConfigEditor } from "./config-editor";
import { proxlbRunning, status } from "./proxlb";
import { serverDataDir } from "./sim";

// "Save and reload" and "save and restart" on the Configuration view, against the demo's real
// ProxLB 2.3.0 (process backend), with JavaScript on (the diff panel's buttons) and off (the
// plain form's submit buttons).

const onDisk = () => readFileSync(path.join(serverDataDir(), "demo", "proxlb.yaml"), "utf8");

test("save and reload keeps ProxLB's process; save and restart starts a new one", async ({ page, javaScriptEnabled }) => {
  test.setTimeout(120_000);
  const scripted = javaScriptEnabled !== false;
  await proxlbRunning(page);
  const before = onDisk();
  const pid = (await status(page)).service.pid;
  expect(pid).not.toBeNull();

  const editor = await openConfigEditor(page, javaScriptEnabled);
  const text = await editor.inputValue();
  const edited = text.replace(/balanciness: \d+/, "balanciness: 12");
  expect(edited).not.toBe(text);
  await editor.fill(edited);
  if (scripted) {
    await page.getByTestId("config-save").click();
    // The pending change is the edit: the editor took the typed text.
    await expect(page.getByTestId("config-diff")).toContainText("+  balanciness: 12");
    await expect(page.getByTestId("config-apply-advice")).toContainText("Reload: ProxLB applies it after its current sleep");
    await page.getByTestId("config-save-reload").click();
    await expect(page.getByTestId("config-notice")).toContainText("ProxLB was reloaded");
  } else {
    await page.getByRole("button", { name: "Save and reload ProxLB" }).click();
    await expect(page).toHaveURL(/outcome=saved_reloaded/);
  }
  expect(onDisk()).toContain("balanciness: 12");
  // A reload is SIGHUP to the same process.
  expect((await status(page)).service.pid).toBe(pid);

  // Back to the demo's value, with a restart this time.
  await (await openConfigEditor(page, javaScriptEnabled)).fill(text);
  if (scripted) {
    await page.getByTestId("config-save").click();
    await page.getByTestId("config-save-restart").click();
    await expect(page.getByTestId("config-notice")).toContainText("ProxLB was restarted");
  } else {
    await page.getByRole("button", { name: "Save and restart ProxLB" }).click();
    await expect(page).toHaveURL(/outcome=saved_restarted/);
  }
  expect(onDisk()).toBe(before);
  await expect.poll(async () => (await status(page)).service.pid).not.toBe(pid);
  await proxlbRunning(page);
  // Both service actions are audited.
  await page.goto("/audit?action=service_action");
  await expect(page.locator("tr[data-action=service_action]").first()).toContainText("restart");
});
