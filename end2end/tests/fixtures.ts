import { test as base, expect, type Page, type Response } from "@playwright/test";

// Every spec imports `test` from here: each page it opens records Content-Security-Policy
// violations, and a test fails if a view it showed had one. With JavaScript on, a listener
// installed before the page's own scripts collects `securitypolicyviolation` events in
// `window.__cspViolations`; Chromium's console report of a violation is collected too, which
// is all there is with JavaScript off (no listener can run then).

declare global {
  interface Window {
    __cspViolations?: string[];
  }
}

/** Installs the recorder on `page`; returns the list the console reports go to. */
export async function recordCspViolations(page: Page): Promise<string[]> {
  const fromConsole: string[] = [];
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) fromConsole.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__cspViolations?.push(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  return fromConsole;
}

/** The violations of the view `page` shows now, plus every console report so far. */
export async function cspViolations(page: Page, javaScript: boolean, fromConsole: string[]): Promise<string[]> {
  const onPage = javaScript
    ? await page.evaluate(() => window.__cspViolations ?? ["the CSP recorder did not run"])
    : [];
  return [...onPage, ...fromConsole];
}

/** Waits until the WASM has taken over the page (the app sets `data-hydrated` on `<html>`). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
}

/**
 * With JavaScript on, makes `page.goto` and `page.reload` return only once the app has hydrated.
 * Before that, a click on a form's button is the browser's plain form submission (the no-JS
 * path, which saves without the JavaScript editor's confirmation); on a busy machine (CI builds
 * the image binary beside the e2e run) that window is long enough for a test to click into it.
 * Answers that are not the app's HTML (JSON, downloads) are left alone.
 */
function waitForHydrationOnNavigation(page: Page): void {
  const untilHydrated = async (response: Response | null) => {
    const html = (response?.headers()["content-type"] ?? "").startsWith("text/html");
    if (html && (await page.locator("html[data-theme]").count()) > 0) await hydrated(page);
    return response;
  };
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => untilHydrated(await goto(url, options));
  const reload = page.reload.bind(page);
  page.reload = async (options) => untilHydrated(await reload(options));
}

/** Console reports per page, for pages opened through the `page` fixture. */
const consoleReports = new WeakMap<Page, string[]>();

type CspFixtures = {
  /** Asserts that the view the page shows (and every earlier one) had no CSP violation. */
  expectNoCspViolations: () => Promise<void>;
};

export const test = base.extend<CspFixtures>({
  page: async ({ page, javaScriptEnabled }, use) => {
    const fromConsole = await recordCspViolations(page);
    consoleReports.set(page, fromConsole);
    if (javaScriptEnabled !== false) waitForHydrationOnNavigation(page);
    await use(page);
    // The view the test ended on; the console covers every view the test showed.
    if (!page.isClosed()) {
      const found = await cspViolations(page, javaScriptEnabled !== false, fromConsole).catch(() => fromConsole);
      expect(found, "Content-Security-Policy violations").toEqual([]);
    }
  },
  expectNoCspViolations: async ({ page, javaScriptEnabled }, use) => {
    await use(async () => {
      const found = await cspViolations(page, javaScriptEnabled !== false, consoleReports.get(page) ?? []);
      expect(found, "Content-Security-Policy violations").toEqual([]);
    });
  },
});

export { expect };
