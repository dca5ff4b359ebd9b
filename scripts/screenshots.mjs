// screenshots.mjs — PNGs of views in both themes, for looking at the UI as a user would.
//
//   node scripts/screenshots.mjs [BASE_URL] [PATH ...]
//   e.g. node scripts/screenshots.mjs http://127.0.0.1:8080 / /nodes
//
// Writes target/screenshots/<path>-<theme>-<width>.png (light and dark, 1280 px and 600 px).
import { chromium } from "@playwright/test";
import { mkdirSync } from "node:fs";

const [base = "http://127.0.0.1:8080", ...paths] = process.argv.slice(2);
const views = paths.length ? paths : ["/"];
const out = "target/screenshots";
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
for (const theme of ["light", "dark"]) {
  for (const width of [1280, 600]) {
    const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: theme });
    const page = await context.newPage();
    // Views need a session: the login page is shot first (signed out), then the demo's
    // one-click login signs in (demo mode only; elsewhere the views show the login page).
    const signedOut = views.filter((view) => view.startsWith("/login"));
    const ordered = [...signedOut, ...views.filter((view) => !view.startsWith("/login"))];
    let signedIn = false;
    for (const view of ordered) {
      if (!signedIn && !view.startsWith("/login")) {
        await page.goto(base + "/login");
        const demo = page.getByRole("button", { name: "Log in as the demo user" });
        if (await demo.count()) await demo.click();
        await page.waitForLoadState("networkidle").catch(() => {});
        signedIn = true;
      }
      await page.goto(base + view);
      await page.waitForLoadState("networkidle").catch(() => {});
      const name = (view === "/" ? "root" : view.replace(/[^a-z0-9]+/gi, "_").replace(/^_/, "")) + `-${theme}-${width}.png`;
      await page.screenshot({ path: `${out}/${name}`, fullPage: true });
      console.log(`${out}/${name}`);
    }
    await context.close();
  }
}
await browser.close();
