import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { type Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { DEMO_STATE, SIGNED_OUT } from "./session";

// The local admin account: log in with it, and change its password on the account page, with
// JavaScript on and off. Its first password is the one the server wrote at first start; once
// changed, the test keeps the current one next to the saved session, for the next run.

const dataDir = process.env.E2E_DATA_DIR ?? path.resolve(__dirname, "../../target/e2e-data");
const passwordFile = path.join(path.dirname(DEMO_STATE), "admin-password");

function currentAdminPassword(): string {
  const file = existsSync(passwordFile) ? passwordFile : path.join(dataDir, "initial-admin-password");
  return readFileSync(file, "utf8").trim();
}

async function logInAsAdmin(page: Page, password: string) {
  await page.goto("/login?next=%2Faccount");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Realm").selectOption("local");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("user-name")).toHaveText("admin@proxlb-web");
}

test.use({ storageState: SIGNED_OUT });

test("the local admin changes its password; its other sessions end, this one stays", async ({ page, browser, baseURL }) => {
  const current = currentAdminPassword();
  const other = await browser.newContext({ storageState: SIGNED_OUT, baseURL });
  try {
    const otherPage = await other.newPage();
    await logInAsAdmin(otherPage, current);
    await logInAsAdmin(page, current);
    await expect(page.getByTestId("account-identity")).toContainText("Local ProxLB Web account");
    const section = page.getByRole("region", { name: "Password" });

    // Mistakes are explained and change nothing.
    await section.getByLabel("Current password").fill("not-the-password");
    await section.getByLabel("New password", { exact: true }).fill("a-new-password-123");
    await section.getByLabel("New password again").fill("a-new-password-123");
    await section.getByRole("button", { name: "Change password" }).click();
    await expect(section.getByRole("alert")).toHaveText("the current password is wrong");
    await section.getByLabel("Current password").fill(current);
    await section.getByLabel("New password", { exact: true }).fill("a-new-password-123");
    await section.getByLabel("New password again").fill("a-new-password-456");
    await section.getByRole("button", { name: "Change password" }).click();
    await expect(section.getByRole("alert")).toHaveText("the new password and its repetition differ");

    const next = `e2e-${randomBytes(12).toString("base64url")}`;
    await section.getByLabel("Current password").fill(current);
    await section.getByLabel("New password", { exact: true }).fill(next);
    await section.getByLabel("New password again").fill(next);
    await section.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByTestId("password-changed")).toBeVisible();
    mkdirSync(path.dirname(passwordFile), { recursive: true });
    writeFileSync(passwordFile, next, { mode: 0o600 });
    await expect(page.getByTestId("initial-password")).toHaveCount(0);

    // This browser stays signed in; the other one was logged out.
    await page.goto("/account");
    await expect(page.getByTestId("user-name")).toHaveText("admin@proxlb-web");
    await otherPage.goto("/nodes");
    await expect(otherPage).toHaveURL(/\/login\?next=\/nodes$/);
    // The old password no longer works; the new one does.
    await otherPage.getByLabel("User name").fill("admin");
    await otherPage.getByLabel("Password").fill(current);
    await otherPage.getByLabel("Realm").selectOption("local");
    await otherPage.getByRole("button", { name: "Log in", exact: true }).click();
    await expect(otherPage.getByRole("alert")).toHaveText("Wrong user name or password (or wrong realm).");
    await logInAsAdmin(otherPage, next);
  } finally {
    await other.close();
  }
});
