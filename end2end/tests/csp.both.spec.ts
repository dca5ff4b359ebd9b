import { test, expect } from "./fixtures";
import { VIEWS } from "./routes";
import { SIGNED_OUT } from "./session";

// The Content-Security-Policy header admits everything the app needs: no view reports a
// violation (JavaScript on: the `securitypolicyviolation` events; off: the console).

const SIGNED_IN_VIEWS = [
  ...VIEWS.map((view) => view.path),
  "/nodes/pve1",
  "/guests?q=db",
  "/account",
  "/account?confirm=logout-everywhere",
  "/audit",
  "/audit?action=login_succeeded",
  "/no/such/page",
];

test("every signed-in view renders without a CSP violation", async ({ page, expectNoCspViolations }) => {
  for (const path of SIGNED_IN_VIEWS) {
    await page.goto(path);
    await expect(page.locator("main")).not.toBeEmpty();
    await page.waitForLoadState("networkidle");
    await expectNoCspViolations();
  }
});

test("the CSP header is sent with every page", async ({ page }) => {
  const response = await page.goto("/");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src [^;]*'nonce-/);
});

test.describe("signed out", () => {
  test.use({ storageState: SIGNED_OUT });
  test("the login page renders without a CSP violation", async ({ page, expectNoCspViolations }) => {
    for (const path of ["/login", "/login?error=bad_credentials&next=%2Fnodes"]) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Log in");
      await page.waitForLoadState("networkidle");
      await expectNoCspViolations();
    }
  });
});
