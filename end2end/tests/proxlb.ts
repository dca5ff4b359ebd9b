import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { serverDataDir, simulatorUrl } from "./sim";

// Helpers for the specs about ProxLB itself (service, logs, runs, migrations): the demo runs
// real ProxLB 2.3.0 against its simulated cluster.

/** The state `GET /api/status` reports (the parts the specs read). */
export type Status = {
  service: {
    state: string;
    pid: number | null;
    version: string | null;
    backend: string;
    last_error_lines?: string[];
  };
  run: { state: string; until_unix_ms?: number };
};

/** ProxLB's state, asked with the page's session. */
export async function status(page: Page): Promise<Status> {
  const response = await page.request.get("/api/status");
  expect(response.status()).toBe(200);
  return (await response.json()) as Status;
}

/** Waits until ProxLB runs (the demo starts it with the server). */
export async function proxlbRunning(page: Page, timeout = 60_000) {
  // ProxLB 2.3.0 itself exits 1 when a guest finishes migrating while it reads the guests'
  // configs (ResourceException "Configuration file … does not exist", proxlb/models/tags.py:76);
  // the demo's drift migrations can meet a run. That crash is ProxLB's, and ProxLB Web shows it
  // as it should (failed, with the traceback); the specs here are about other things, so they
  // start ProxLB again, as an operator would.
  const now = await status(page);
  if (now.service.state === "failed" && (now.service.last_error_lines ?? []).some((l) => l.includes("does not exist"))) {
    const started = await page.request.post("/api/service/start", { headers: { Origin: test.info().project.use.baseURL! } });
    expect(started.ok(), await started.text()).toBeTruthy();
  }
  await expect.poll(async () => (await status(page)).service.state, { timeout }).toBe("running");
}

/** Waits until ProxLB sleeps between runs with at least `windowMs` before its next run, so a
 * spec can set the cluster up without the daemon's schedule (every minute in the demo) starting
 * a run in the middle. Starts ProxLB again if its own migration-race crash stopped it meanwhile
 * (see `proxlbRunning`). Within `timeout`, at most two schedule cycles of the demo. */
export async function quietWindow(page: Page, windowMs: number, timeout = 150_000) {
  await expect
    .poll(
      async () => {
        const now = await status(page);
        if (now.service.state !== "running") {
          await proxlbRunning(page, 20_000);
          return "ProxLB was not running";
        }
        if (now.run.state !== "sleeping") return `run state ${now.run.state}`;
        const left = (now.run.until_unix_ms ?? 0) - Date.now();
        return left >= windowMs ? "quiet" : `next run in ${Math.round(left / 1000)} s`;
      },
      { timeout, intervals: [1_000], message: `ProxLB sleeping with ${windowMs / 1000} s before its next run` },
    )
    .toBe("quiet");
}

/** Waits until the log has an entry whose message contains `text`. */
export async function logHas(page: Page, text: string, timeout = 90_000) {
  await expect
    .poll(
      async () => {
        const response = await page.request.get(`/api/logs?search=${encodeURIComponent(text)}&limit=1`);
        return ((await response.json()) as { entries: unknown[] }).entries.length;
      },
      { timeout, message: `a log line with "${text}"` },
    )
    .toBeGreaterThan(0);
}

/** The Proxmox API of the demo's simulator, with the API token from the demo's ProxLB config. */
export async function proxmoxApi(): Promise<APIRequestContext> {
  const config = readFileSync(path.join(serverDataDir(), "demo", "proxlb.yaml"), "utf8");
  const field = (name: string) => {
    const found = config.match(new RegExp(`^\\s*${name}:\\s*'?"?([^'"\\n]+)`, "m"));
    if (!found) throw new Error(`no ${name} in the demo config`);
    return found[1].trim();
  };
  return request.newContext({
    baseURL: `${simulatorUrl()}/api2/json/`,
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: {
      Authorization: `PVEAPIToken=${field("user")}!${field("token_id")}=${field("token_secret")}`,
    },
  });
}

/** Migrates a running VM to another online node through the Proxmox API, as a person would.
 * Returns the guest's name. */
export async function migrateSomeVm(api: APIRequestContext): Promise<string> {
  const resources = await api.get("cluster/resources?type=vm");
  expect(resources.ok()).toBeTruthy();
  const guests = ((await resources.json()).data as Array<Record<string, unknown>>).filter(
    (g) => g.type === "qemu" && g.status === "running" && !g.template && !g.lock,
  );
  const nodes = await api.get("nodes");
  const online = ((await nodes.json()).data as Array<Record<string, unknown>>)
    .filter((n) => n.status === "online")
    .map((n) => String(n.node));
  const guest = guests.find((g) => online.some((n) => n !== g.node));
  if (!guest) throw new Error("no running VM with another online node to go to");
  const target = online.find((n) => n !== guest.node);
  const migrate = await api.post(`nodes/${guest.node}/qemu/${guest.vmid}/migrate`, {
    form: { target: String(target), online: "1" },
  });
  expect(migrate.ok(), await migrate.text()).toBeTruthy();
  return String(guest.name);
}
