import { defineConfig, devices } from "@playwright/test";
import path from "node:path";
import { DEMO_STATE } from "./tests/session";

// Offline machines: never download Playwright's own browser; drive Debian's chromium.
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const port = process.env.E2E_PORT ?? "3150";
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;
// The server runs in demo mode (embedded simulated cluster); tests reach the simulator's admin
// endpoint through the ProxLB config it writes into this folder.
export const dataDir = process.env.E2E_DATA_DIR ?? path.resolve(__dirname, "../target/e2e-data");

const launchOptions = {
  executablePath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: process.env.E2E_JSON ?? "test-results/results.json" }]],
  use: { baseURL, trace: "off" },
  projects: [
    {
      // Logs in once (the demo's one-click login) and saves the session for the others: every
      // test runs signed in unless it asks for a signed-out context itself.
      name: "setup",
      testMatch: /auth\.setup\.ts/,
      use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 }, launchOptions },
    },
    {
      // JavaScript on: the hydrated app.
      name: "js",
      testMatch: /.*\.(hydrate|both)\.spec\.ts/,
      dependencies: ["setup"],
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        launchOptions,
        storageState: DEMO_STATE,
      },
    },
    {
      // JavaScript off: what server rendering alone gives.
      name: "nojs",
      testMatch: /.*\.(ssr|both)\.spec\.ts/,
      dependencies: ["setup"],
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        javaScriptEnabled: false,
        launchOptions,
        storageState: DEMO_STATE,
      },
    },
  ],
  // Starts the release server built by `cargo leptos build --release`. The test script never
  // reuses a server it did not start (it would silently test a stale build); set
  // E2E_REUSE_SERVER=1 to reuse one during development.
  webServer: process.env.BASE_URL
    ? undefined
    : {
        command: "./target/release/proxlb-web",
        cwd: "..",
        url: `${baseURL}/healthz`,
        reuseExistingServer: process.env.E2E_REUSE_SERVER === "1",
        timeout: 60_000,
        stdout: "ignore",
        stderr: "pipe",
        env: {
          HOST: "127.0.0.1",
          PORT: port,
          LEPTOS_SITE_ROOT: "target/site",
          RUST_LOG: "warn",
          PROXLB_DEMO: "1",
          PROXLB_WEB_DATA: dataDir,
          PROXLB_WEB_POLL_SECONDS: "1",
        },
      },
});
