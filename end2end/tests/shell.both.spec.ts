import { test, expect } from "./fixtures";
import { VIEWS } from "./routes";

// Runs with JavaScript on and off: the shell must be complete from server rendering alone.

for (const view of VIEWS) {
  test(`${view.path} renders the shell, navigation and heading`, async ({ page }) => {
    const response = await page.goto(view.path);
    expect(response?.status()).toBe(200);
    await expect(page).toHaveTitle(`${view.label} · ProxLB Web`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(view.label);
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const link of VIEWS) {
      await expect(nav.getByRole("link", { name: link.label, exact: true })).toHaveAttribute("href", link.path);
    }
    await expect(nav.getByRole("link", { name: view.label, exact: true })).toHaveAttribute("aria-current", "page");
    await expect(page.getByTestId("server-uptime")).toContainText("up ");
  });
}

test("unknown paths answer HTTP 404 with the not-found page", async ({ page, request }) => {
  const api = await request.get("/no/such/page");
  expect(api.status()).toBe(404);
  const response = await page.goto("/definitely-missing");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
});

test("healthz answers JSON", async ({ request }) => {
  const response = await request.get("/healthz");
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(typeof body.version).toBe("string");
});

test("the theme choice survives a reload and is rendered by the server", async ({ page, request }) => {
  await page.goto("/nodes");
  await page.getByRole("button", { name: "Dark" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page).toHaveURL(/\/nodes\??$/);
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByRole("button", { name: "Dark" })).toHaveAttribute("aria-pressed", "true");

  // The server itself renders the attribute (no flash of the wrong theme).
  const cookies = await page.context().cookies();
  const theme = cookies.find((cookie) => cookie.name === "plb_theme");
  expect(theme?.value).toBe("dark");
  // The explicit Cookie header replaces the stored ones, so it carries the session too: this
  // must render /nodes itself, not the login page it would redirect to.
  const session = cookies.find((cookie) => cookie.name === "plbw_session");
  expect(session).toBeDefined();
  const nodes = await request.get("/nodes", {
    headers: { cookie: `plb_theme=dark; plbw_session=${session?.value}` },
    maxRedirects: 0,
  });
  expect(nodes.status()).toBe(200);
  const html = await nodes.text();
  expect(html).toContain('<html lang="en" data-theme="dark"');
  expect(html).toContain("<title>Nodes · ProxLB Web</title>");

  await page.getByRole("button", { name: "System" }).click();
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.*/);
  await page.reload();
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.*/);
  await expect(page.getByRole("button", { name: "System" })).toHaveAttribute("aria-pressed", "true");
});
