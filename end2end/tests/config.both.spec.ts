import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test, expect } from "./fixtures";
import { openConfigEditor } from "./config-editor";

// The Configuration view and the node toggles against the demo's real config file (demo mode
// writes it under the data directory). The rich editor (diff before save, validation issues
// that jump to their line, the maintenance dialog answering in place) needs JavaScript; without
// it the same view is a plain form, checked in config.ssr.spec.ts.

const dataDir = process.env.E2E_DATA_DIR ?? path.resolve(__dirname, "../../target/e2e-data");
const configPath = path.join(dataDir, "demo", "proxlb.yaml");
const onDisk = () => readFileSync(configPath, "utf8");
const MASK = "********";

test.describe.configure({ mode: "serial" });

// Each test puts the file back as it found it; should one fail half-way, this does, so the
// specs that run after this file (the dashboard reads the spread limit) see the demo's config.
let original = "";
test.beforeAll(() => {
  original = onDisk();
});
test.afterAll(() => {
  if (onDisk() !== original) writeFileSync(configPath, original, { mode: 0o600 });
});

test("edit, see the diff, save: only the edited value changes and the secret stays", async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled === false, "the diff before saving is the JavaScript editor's");
  const before = onDisk();
  const secret = before.match(/token_secret:\s*(\S+)/)?.[1];
  expect(secret).toBeTruthy();
  const editor = await openConfigEditor(page, javaScriptEnabled);
  await expect(editor).toBeVisible();
  const text = await editor.inputValue();
  // The secret never reaches the browser: the editor shows the fixed mask.
  expect(text).toContain(MASK);
  expect(text).not.toContain(secret as string);
  expect(await page.content()).not.toContain(secret as string);
  const edited = text.replace(/balanciness: \d+/, "balanciness: 11");
  expect(edited).not.toBe(text);
  await editor.fill(edited);
  await page.getByTestId("config-save").click();
  const diff = page.getByTestId("config-diff");
  await expect(diff).toContainText("+  balanciness: 11");
  await expect(diff).not.toContainText("token_secret");
  await page.getByTestId("config-confirm-save").click();
  await expect(page.getByTestId("config-notice")).toContainText("Saved");
  const after = onDisk();
  expect(after).toContain("balanciness: 11");
  // The masked secret kept the stored one, byte for byte; nothing else changed.
  expect(after).toContain(`token_secret: ${secret}`);
  expect(after.replace("balanciness: 11", "")).toBe(before.replace(/balanciness: \d+/, ""));
  // The previous version is a backup, with a diff to the current file.
  await page.reload();
  await expect(page.getByTestId("config-backups")).toBeVisible();
  await expect(page.getByTestId("config-text")).toHaveValue(/balanciness: 11/);
  // Back to the demo's value: the views specs that run after this file read the spread limit.
  await page.getByTestId("config-text").fill(text);
  await page.getByTestId("config-save").click();
  await expect(page.getByTestId("config-diff")).toContainText("-  balanciness: 11");
  await page.getByTestId("config-confirm-save").click();
  await expect(page.getByTestId("config-notice")).toContainText("Saved");
  expect(onDisk()).toBe(before);
});

test("a validation error is shown with its line and marks it in the gutter", async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled === false, "Validate answers in place with JavaScript");
  const before = onDisk();
  const editor = await openConfigEditor(page, javaScriptEnabled);
  const text = await editor.inputValue();
  const lines = text.split("\n");
  const broken = lines.findIndex((l) => /method:/.test(l));
  expect(broken).toBeGreaterThan(0);
  lines[broken] = lines[broken].replace(/method:.*/, "method: [memory");
  await editor.fill(lines.join("\n"));
  await page.getByTestId("config-validate").click();
  const issue = page.getByTestId("config-issue").first();
  await expect(issue).toBeVisible();
  await expect(issue.getByRole("button")).toHaveText(/^\d+:\d+$/);
  await expect(page.locator(".plb-config__line--error").first()).toBeVisible();
  // Saving it is refused and the file is untouched.
  await page.getByTestId("config-save").click();
  await page.getByTestId("config-confirm-save").click();
  await expect(page.getByTestId("config-notice")).toContainText("nothing was written");
  expect(onDisk()).toBe(before);
});

test("maintenance toggle asks first, says what ProxLB will do, then writes the list", async ({ page, javaScriptEnabled }) => {
  await page.goto("/nodes/pve1");
  const toggles = page.getByTestId("node-toggles");
  await expect(toggles.getByTestId("maintenance-state")).toHaveText("off");
  await toggles.getByTestId("maintenance-toggle").click();
  const dialog = page.getByRole("dialog", { name: "Put pve1 into maintenance?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("drains it");
  await expect(dialog).toContainText("after its current sleep");
  expect(onDisk()).not.toMatch(/maintenance_nodes:[^\n]*pve1|maintenance_nodes:\s*\n\s*-\s*pve1/);
  await dialog.getByRole("button", { name: "Turn on", exact: true }).click();
  if (javaScriptEnabled !== false) {
    await expect(page.getByRole("dialog")).toHaveCount(0);
    await expect(toggles.getByTestId("maintenance-state")).toHaveText("on");
  } else {
    await expect(page).toHaveURL(/outcome=saved/);
  }
  await expect.poll(onDisk).toMatch(/pve1/);
  // The node's page reads the changed file (the config watcher), then offers to undo it.
  await expect(async () => {
    await page.goto("/nodes/pve1");
    await expect(page.getByTestId("maintenance-state")).toHaveText("on", { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  // And off again, so the cluster goes back to normal.
  await page.getByTestId("node-toggles").getByTestId("maintenance-toggle").click();
  await page.getByRole("dialog", { name: "Take pve1 out of maintenance?" }).getByRole("button", { name: "Turn off", exact: true }).click();
  await expect.poll(() => /maintenance_nodes:[^\n]*pve1/.test(onDisk())).toBe(false);
});

test("a backup shows its diff and restores the file it holds", async ({ page, javaScriptEnabled }) => {
  const before = onDisk();
  // A save makes a backup of the file as it was.
  const editor = await openConfigEditor(page, javaScriptEnabled);
  const text = await editor.inputValue();
  await editor.fill(text.replace(/balanciness: \d+/, "balanciness: 13"));
  await page.getByTestId("config-save").click();
  if (javaScriptEnabled !== false) {
    await page.getByTestId("config-confirm-save").click();
    await expect(page.getByTestId("config-notice")).toContainText("Saved");
  } else {
    await expect(page).toHaveURL(/outcome=saved/);
  }
  expect(onDisk()).toContain("balanciness: 13");
  // The newest backup (first row) is the file before that save: its diff to the current file
  // adds the new value, and restoring it (after a confirmation) brings the old file back.
  await openConfigEditor(page, javaScriptEnabled);
  const newest = page.getByTestId("config-backups").locator("tbody tr").first();
  await newest.getByRole("link", { name: "Diff" }).click();
  await expect(page.getByTestId("config-backup-diff")).toContainText("+  balanciness: 13");
  const secret = before.match(/token_secret:\s*(\S+)/)?.[1] as string;
  expect(secret).toBeTruthy();
  await expect(page.getByTestId("config-backup-diff")).not.toContainText(secret);
  await page.getByTestId("config-backups").locator("tbody tr").first().getByRole("link", { name: "Restore…" }).click();
  const dialog = page.getByRole("dialog", { name: /Restore the backup of/ });
  await expect(dialog).toContainText("The current file is backed up first");
  expect(onDisk()).toContain("balanciness: 13");
  await dialog.getByRole("button", { name: "Restore", exact: true }).click();
  if (javaScriptEnabled === false) await expect(page).toHaveURL(/outcome=saved/);
  await expect.poll(onDisk).toBe(before);
});
