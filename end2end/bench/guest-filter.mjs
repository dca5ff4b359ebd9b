// Browser benchmark of the Guests view at 10,000 guests (run by scripts/bench.sh, never by tests).
//
//   node end2end/bench/guest-filter.mjs [markdown-output-file]
//
// Starts the release server (`BENCH_BIN`, default target/release/proxlb-web) in demo mode with
// the large scenario (64 nodes, 10,000 guests) on a loopback port, signs in as the demo user,
// opens /guests in Debian's chromium, and measures what a user waits for:
//   - the size of the server-rendered page (its first page of guests, not the whole list),
//   - time from navigation to a hydrated page (interactive: until the list arrives, the server
//     filters), and to the compact guest list the page loads after hydration
//     (`/sfn/guest_columns`, from then on every keystroke filters in the browser),
//   - one filter keystroke: from the input event to the updated result count in the DOM
//     (WASM filtering + URL update + table re-render), repeated per query.
// Prints a Markdown section and writes it to the given file (default target/bench-browser.md).
// Results, not asserts: the target (a keystroke under 16 ms) is read off the table.
import { spawn } from "node:child_process";
import http from "node:http";
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "@playwright/test";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const output = process.argv[2] ?? path.join(root, "target/bench-browser.md");
const port = process.env.BENCH_PORT ?? "3170";
const base = `http://127.0.0.1:${port}`;
const rounds = Number(process.env.BENCH_ROUNDS ?? "30");

const binary = process.env.BENCH_BIN ?? "target/release/proxlb-web";
const server = spawn(path.resolve(root, binary), [], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env: {
    ...process.env,
    HOST: "127.0.0.1",
    PORT: port,
    LEPTOS_SITE_ROOT: "target/site",
    RUST_LOG: "warn",
    PROXLB_DEMO: "1",
    PROXLB_DEMO_SCENARIO: "large",
    PROXLB_WEB_DATA: path.join(root, "target/bench-browser-data"),
  },
});
// The server never outlives this script, whatever happens.
const stopServer = () => server.exitCode === null && server.kill("SIGTERM");
process.on("exit", stopServer);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

// POST /auth/login with the demo's one-click login (`demo=1`), as a script would; returns the
// session cookie (`name=value`), or null while the server is not listening yet.
const signIn = () =>
  new Promise((resolve) => {
    const request = http.request(
      `${base}/auth/login`,
      {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      },
      (response) => {
        response.resume();
        const cookie = (response.headers["set-cookie"] ?? [])[0]?.split(";")[0];
        resolve(response.statusCode === 200 && cookie ? cookie : null);
      },
    );
    request.on("error", () => resolve(null));
    request.end("demo=1");
  });

async function waitForGuests(deadline) {
  while (Date.now() < deadline) {
    const cookie = await signIn();
    if (cookie) {
      const response = await fetch(`${base}/api/guests`, { headers: { cookie } });
      if (response.ok) {
        const body = await response.json();
        const count = Array.isArray(body) ? body.length : (body.guests ?? []).length;
        if (count > 0) return { count, cookie };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the server at ${base} served no guests within the deadline`);
}

// Bytes on the wire for `url` with the given Accept-Encoding (node's http never decompresses).
const wireBytes = (url, encoding, cookie) =>
  new Promise((resolve, reject) => {
    http
      .get(url, { headers: { "accept-encoding": encoding, cookie } }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`${url} answered ${response.statusCode}, not the page`));
          return;
        }
        let bytes = 0;
        response.on("data", (chunk) => (bytes += chunk.length));
        response.on("end", () => resolve({ bytes, encoding: response.headers["content-encoding"] ?? "identity" }));
      })
      .on("error", reject);
  });

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
const ms = (value) => value.toFixed(1);

async function main() {
  const { count: apiGuests, cookie } = await waitForGuests(Date.now() + 120_000);
  const plain = await wireBytes(`${base}/guests`, "identity", cookie);
  const compressed = await wireBytes(`${base}/guests`, "br, gzip", cookie);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [name, ...value] = cookie.split("=");
  await context.addCookies([{ name, value: value.join("="), url: base }]);
  // When `data-hydrated` appears, on the page's clock: read afterwards, so that work the page
  // does later (decoding the guest list) does not count towards hydration.
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.documentElement?.dataset.hydrated === "true") {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const hydration = [];
  const listLoaded = [];
  for (let i = 0; i < 5; i++) {
    const list = page.waitForResponse((r) => r.url().includes("/sfn/guest_columns"), { timeout: 60_000 });
    await page.goto(`${base}/guests`);
    await page.waitForSelector('html[data-hydrated="true"]', { timeout: 60_000 });
    hydration.push(await page.evaluate(() => window.__hydratedAt));
    await (await list).finished();
    // When the list's last byte arrived, on the page's clock (navigation start = 0).
    listLoaded.push(
      await page.evaluate(
        () => performance.getEntriesByType("resource").find((e) => e.name.includes("/sfn/guest_columns"))?.responseEnd ?? NaN,
      ),
    );
  }
  if (!page.url().endsWith("/guests")) throw new Error(`not signed in: the browser is at ${page.url()}`);
  hydration.sort((a, b) => a - b);
  listLoaded.sort((a, b) => a - b);

  // One keystroke, timed inside the page: set the field, fire `input`, resolve when the result
  // count's text changes (the table is re-rendered in the same update).
  const keystroke = (value) =>
    page.evaluate(
      (value) =>
        new Promise((resolve, reject) => {
          const input = document.querySelector('input[name="q"]');
          const count = () => document.querySelector('[data-testid="guest-count"]')?.textContent;
          const before = count();
          const observer = new MutationObserver(() => {
            if (count() !== before) {
              observer.disconnect();
              resolve({ elapsed: performance.now() - started, summary: count() });
            }
          });
          observer.observe(document.querySelector("main") ?? document.body, {
            subtree: true, childList: true, characterData: true,
          });
          setTimeout(() => { observer.disconnect(); reject(new Error(`no update for ${JSON.stringify(value)}`)); }, 10_000);
          const started = performance.now();
          input.value = value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      value,
    );

  const queries = [
    ["search `w` (from all guests)", "w"],
    ["search `web-1`", "web-1"],
    ["search `1` (vmid digits)", "1"],
  ];
  const results = [];
  for (const [label, value] of queries) {
    const times = [];
    let summary = "";
    for (let i = 0; i < rounds; i++) {
      const typed = await keystroke(value);
      times.push(typed.elapsed);
      summary = typed.summary;
      await keystroke(""); // back to the full list, so the next round changes the result again
    }
    times.sort((a, b) => a - b);
    results.push({ label, p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1), summary });
  }
  const clearing = [];
  for (let i = 0; i < rounds; i++) {
    await keystroke("web-1");
    clearing.push((await keystroke("")).elapsed);
  }
  clearing.sort((a, b) => a - b);
  results.push({ label: "clear the search (back to 10,000)", p50: percentile(clearing, 0.5), p99: percentile(clearing, 0.99), max: clearing.at(-1), summary: "" });
  const version = browser.version();
  await browser.close();
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);

  const lines = [
    `## Guests view in the browser at ${apiGuests} guests`,
    "",
    `Measured by \`node end2end/bench/guest-filter.mjs\` on ${new Date().toISOString().slice(0, 10)}: \`${binary}\` (signed in as the demo user) in demo mode with the large scenario (\`PROXLB_DEMO_SCENARIO=large\`), headless Chromium ${version}, 1280×800, no CPU throttling. A keystroke is timed in the page from the \`input\` event to the updated result count (WASM filter, URL update, table re-render), ${rounds} rounds per query.`,
    "",
    "| query | p50 ms | p99 ms | max ms | result |",
    "| --- | ---: | ---: | ---: | --- |",
    ...results.map((r) => `| ${r.label} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.summary} |`),
    "",
    "| page load | value |",
    "| --- | ---: |",
    `| \`/guests\` HTML, bytes on the wire, uncompressed | ${plain.bytes} |`,
    `| \`/guests\` HTML, bytes on the wire, browser's \`Accept-Encoding\` (${compressed.encoding}) | ${compressed.bytes} |`,
    `| navigation to hydrated (interactive), p50 of 5 loads, ms | ${ms(percentile(hydration, 0.5))} |`,
    `| navigation to the whole guest list loaded (\`/sfn/guest_columns\` received), p50 of 5 loads, ms | ${ms(percentile(listLoaded, 0.5))} |`,
    "",
  ];
  const markdown = lines.join("\n");
  mkdirSync(path.dirname(output), { recursive: true });
  writeFileSync(output, markdown);
  console.log(markdown);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(`bench: ${error.message}`);
    process.exit(1);
  });
