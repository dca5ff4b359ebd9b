import { defineConfig, devices } from "@playwright/test";
import path from "node:path";
import { DEMO_STATE, PROXLB_STATE } from "./tests/session";

// Offline machines: never download Playwright's own browser; drive Debian's chromium.
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const port = process.env.E2E_PORT ?? "3150";
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;
// The server runs in demo mode (embedded simulated cluster); tests reach the simulator's admin
// endpoint through the ProxLB config it writes into this folder.
export const dataDir = process.env.E2E_DATA_DIR ?? path.resolve(__dirname, "../target/e2e-data");
// Two servers: the one above keeps the demo cluster fixed (ProxLB off: the views specs count its
// nodes and guests), this one runs real ProxLB against its simulator (it migrates guests, and a
// drift moves some after idle runs) for the specs about the service, the logs and the runs. It
// answers on another host name so the two sessions' cookies (per host, not per port) never mix.
const proxlbPort = process.env.E2E_PROXLB_PORT ?? "3151";
const proxlbBaseURL = process.env.PROXLB_BASE_URL ?? `http://localhost:${proxlbPort}`;
export const proxlbDataDir =
  process.env.E2E_PROXLB_DATA_DIR ?? path.resolve(__dirname, "../target/e2e-data-proxlb");
// The server binary (absolute, or relative to the repository): the release build by default;
// scripts/test.sh runs the suite against the container image's binary (what ships, and one
// server build less).
const serverCommand = process.env.E2E_SERVER_BIN ?? "./target/release/proxlb-web";
// The specs that need ProxLB running; the fixed-cluster projects leave them out.
const proxlbSpecs = /(service\.both|config-apply\.both|logs\.both|logs\.hydrate|balancing-run\.hydrate|ask-proxlb-run\.hydrate)\.spec\.ts$/;

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
  // Two chains run side by side, one per server, each one test at a time (`workers: 1` per
  // project): the fixed cluster (setup → js → nojs) and real ProxLB (setup-proxlb → js-proxlb →
  // nojs-proxlb). Inside a chain the tests share one server's state (the admin's password, its
  // sessions, the config file, the maintenance list), so its projects run one after the other;
  // the ProxLB chain mostly waits for ProxLB's runs, so the two together take little more than
  // the longer one.
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: process.env.E2E_JSON ?? "test-results/results.json" }]],
  // A failed test keeps its trace (DOM snapshots, network, console) and a screenshot under
  // end2end/test-results, so a failure that does not reproduce can still be read afterwards
  // (`npx playwright show-trace <trace.zip>`).
  use: { baseURL, trace: "retain-on-failure", screenshot: "only-on-failure" },
  projects: [
    // The fixed cluster (ProxLB off).
    {
      // Logs in once (the demo's one-click login) and saves the session for the others: every
      // test runs signed in unless it asks for a signed-out context itself.
      name: "setup",
      testMatch: /auth\.setup\.ts/,
      metadata: { dataDir, storageState: DEMO_STATE },
      use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 }, launchOptions },
    },
    {
      // JavaScript on: the hydrated app.
      name: "js",
      testMatch: /.*\.(hydrate|both)\.spec\.ts/,
      testIgnore: proxlbSpecs,
      dependencies: ["setup"],
      workers: 1,
      metadata: { dataDir },
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
      testIgnore: proxlbSpecs,
      // After js: the same server (see `workers` above).
      dependencies: ["setup", "js"],
      workers: 1,
      metadata: { dataDir },
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        javaScriptEnabled: false,
        launchOptions,
        storageState: DEMO_STATE,
      },
    },
    // Real ProxLB against the simulator: the service, logs and runs specs only.
    {
      name: "setup-proxlb",
      testMatch: /auth\.setup\.ts/,
      metadata: { dataDir: proxlbDataDir, storageState: PROXLB_STATE },
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        launchOptions,
        baseURL: proxlbBaseURL,
      },
    },
    {
      name: "js-proxlb",
      testMatch: proxlbSpecs,
      testIgnore: /\.ssr\.spec\.ts$/,
      dependencies: ["setup-proxlb"],
      workers: 1,
      metadata: { dataDir: proxlbDataDir },
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        launchOptions,
        baseURL: proxlbBaseURL,
        storageState: PROXLB_STATE,
      },
    },
    {
      name: "nojs-proxlb",
      testMatch: proxlbSpecs,
      testIgnore: /\.hydrate\.spec\.ts$/,
      // After js-proxlb: the same server.
      dependencies: ["setup-proxlb", "js-proxlb"],
      workers: 1,
      metadata: { dataDir: proxlbDataDir },
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        javaScriptEnabled: false,
        launchOptions,
        baseURL: proxlbBaseURL,
        storageState: PROXLB_STATE,
      },
    },
  ],
  // Starts the server (`E2E_SERVER_BIN`, by default the release build of `cargo leptos build
  // --release`) with the site that build wrote to target/site. The test script never
  // reuses a server it did not start (it would silently test a stale build); set
  // E2E_REUSE_SERVER=1 to reuse one during development.
  webServer: process.env.BASE_URL
    ? undefined
    : [
        {
          command: serverCommand,
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
            PROXLB_DEMO_PROXLB: "off",
            PROXLB_WEB_DATA: dataDir,
            PROXLB_WEB_POLL_SECONDS: "1",
          },
        },
        {
          command: serverCommand,
          cwd: "..",
          // Checked on the address it binds (`localhost` may resolve to ::1 first).
          url: `http://127.0.0.1:${proxlbPort}/healthz`,
          reuseExistingServer: process.env.E2E_REUSE_SERVER === "1",
          timeout: 60_000,
          stdout: "ignore",
          stderr: "pipe",
          env: {
            HOST: "127.0.0.1",
            PORT: proxlbPort,
            LEPTOS_SITE_ROOT: "target/site",
            RUST_LOG: "warn",
            PROXLB_DEMO: "1",
            PROXLB_DEMO_PROXLB: "on",
            PROXLB_WEB_DATA: proxlbDataDir,
            PROXLB_WEB_POLL_SECONDS: "1",
          },
        },
      ],
});
