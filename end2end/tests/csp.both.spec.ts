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
  // A cluster view's body is shared for a moment (the page cache): its inline scripts are
  // allowed by hash. Other pages carry their own nonce.
  const shared = await page.goto("/");
  const sharedCsp = shared?.headers()["content-security-policy"] ?? "";
  expect(sharedCsp).toContain("frame-ancestors 'none'");
  expect(sharedCsp).toMatch(/script-src [^;]*'sha256-/);
  expect(sharedCsp).not.toContain("'nonce-");
  const own = await page.goto("/account");
  const ownCsp = own?.headers()["content-security-policy"] ?? "";
  expect(ownCsp).toContain("frame-ancestors 'none'");
  expect(ownCsp).toMatch(/script-src [^;]*'nonce-/);
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
