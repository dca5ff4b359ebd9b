import { test, expect } from "./fixtures";
import { PVE_USERS, SIGNED_OUT, logIn, openUserMenu } from "./session";

// Logging in and out, with JavaScript on and off. These tests start signed out and sign in as
// users of the simulated cluster; they never end the demo user's session the other tests use.

test.describe("signed out", () => {
  test.use({ storageState: SIGNED_OUT });

  test("a page asks for a login and keeps where you were going", async ({ page, expectNoCspViolations }) => {
    await page.goto("/guests?q=db");
    await expect(page).toHaveURL(/\/login\?next=\/guests%3Fq%3Ddb$/);
    await expect(page).toHaveTitle("Log in · ProxLB Web");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Log in");
    // A bare frame: no navigation, no user menu, no live status before a session exists.
    await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
    await expect(page.getByTestId("user-menu")).toHaveCount(0);
    await expect(page.getByLabel("User name")).toBeFocused();
    await expect(page.getByLabel("Realm").locator("option")).toHaveText([
      "Linux PAM (Proxmox)",
      "Proxmox VE authentication server",
      "ProxLB Web local account",
    ]);
    await expect(page.getByTestId("demo-login")).toContainText("This is a demo.");
    await expectNoCspViolations();

    await page.getByLabel("User name").fill(PVE_USERS.auditor.username);
    await page.getByLabel("Password").fill(PVE_USERS.auditor.password);
    await page.getByLabel("Realm").selectOption(PVE_USERS.auditor.realm);
    await page.getByLabel("Password").press("Enter");
    await expect(page).toHaveURL(/\/guests\?q=db$/);
    await expect(page.getByTestId("user-name")).toHaveText(PVE_USERS.auditor.userId);
    await expect(page.locator("tbody tr")).toHaveCount(2);
  });

  test("a wrong password says so and keeps next", async ({ page }) => {
    await page.goto("/login?next=%2Frules");
    await page.getByLabel("User name").fill(`nobody-e2e-${Date.now()}`);
    await page.getByLabel("Password").fill("not the password");
    await page.getByLabel("Realm").selectOption("pve");
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await expect(page).toHaveURL(/\/login\?.*error=bad_credentials/);
    await expect(page.getByRole("alert")).toHaveText("Wrong user name or password (or wrong realm).");
    // Both forms (credentials and the demo's one click) keep it.
    await expect(page.locator('input[name="next"]')).toHaveCount(2);
    for (const next of await page.locator('input[name="next"]').all()) await expect(next).toHaveValue("/rules");
  });

  test("the login page shows every failure the server reports", async ({ page }) => {
    await page.goto("/login?error=rate_limited&retry_after=90");
    await expect(page.getByRole("alert")).toContainText("try again in 2 minutes");
    await page.goto("/login?error=needs_second_factor");
    await expect(page.getByRole("alert")).toContainText("second factor");
    await page.goto("/login?error=no_permission");
    await expect(page.getByRole("alert")).toContainText("Sys.Audit");
    await page.goto("/login?error=%3Cb%3Eowned%3C%2Fb%3E");
    await expect(page.getByRole("alert")).toHaveCount(0);
  });

  test("log in with Proxmox credentials, see your name, log out", async ({ page }) => {
    await logIn(page, PVE_USERS.proxlb);
    const menu = await openUserMenu(page);
    await expect(menu).toContainText("proxlb@pve");
    await expect(menu).toContainText("Viewer");
    await expect(menu).toContainText("Signed in with Proxmox VE");
    await menu.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login(\?.*)?$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Log in");
    // The session is gone: a view asks for a login again.
    await page.goto("/nodes");
    await expect(page).toHaveURL(/\/login\?next=\/nodes$/);
  });

  test("a read-only user sees no write buttons and is refused if it forces a write", async ({ page, baseURL }) => {
    await logIn(page, PVE_USERS.auditor, "/account");
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-identity")).toContainText("Viewer");
    await expect(page.getByRole("button", { name: "Create token" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: /^Revoke/ })).toHaveCount(0);
    await expect(page.getByRole("region", { name: "API tokens" })).toContainText("Only operators can create and revoke tokens.");
    // Forced: the same requests a page would send, from the same origin, with the session.
    const origin = { Origin: baseURL! };
    const rest = await page.request.post("/api/tokens", {
      headers: origin,
      data: { name: "forced-by-a-viewer", scope: "read" },
    });
    expect(rest.status()).toBe(403);
    expect((await rest.json()).kind).toBe("forbidden");
    const form = await page.request.post("/sfn/create_token_form", {
      headers: origin,
      form: { name: "forced-by-a-viewer", scope: "read", expires_in_days: "" },
    });
    expect(form.status()).toBe(403);
    const revoke = await page.request.post("/sfn/revoke_token", { headers: origin, form: { id: "1" } });
    expect(revoke.status()).toBe(403);
  });

  test("log out everywhere ends every session of the user, after a confirmation", async ({ page, browser, baseURL }) => {
    const other = await browser.newContext({ storageState: SIGNED_OUT, baseURL });
    try {
      const otherPage = await other.newPage();
      await logIn(otherPage, PVE_USERS.proxlb);
      await logIn(page, PVE_USERS.proxlb, "/account");
      await page.getByRole("link", { name: "Log out everywhere…" }).click();
      await expect(page).toHaveURL(/\/account\?confirm=logout-everywhere$/);
      const dialog = page.getByRole("dialog", { name: "Log out everywhere?" });
      await expect(dialog).toBeVisible();
      // Cancel leaves everything as it was.
      await dialog.getByRole("link", { name: "Cancel" }).click();
      await expect(page).toHaveURL(/\/account$/);
      await expect(page.getByRole("dialog")).toHaveCount(0);
      await page.getByRole("link", { name: "Log out everywhere…" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Log out everywhere" }).click();
      await expect(page).toHaveURL(/\/login(\?.*)?$/);
      await otherPage.goto("/nodes");
      await expect(otherPage).toHaveURL(/\/login\?next=\/nodes$/);
    } finally {
      await other.close();
    }
  });
});

test("the user menu names the demo user and links to Account and Audit log", async ({ page }) => {
  await page.goto("/");
  const menu = await openUserMenu(page);
  await expect(menu.getByTestId("user-role")).toHaveText("Operator");
  await menu.getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Audit log");
  const again = await openUserMenu(page);
  await again.getByRole("link", { name: "Account and API tokens" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Account");
});
