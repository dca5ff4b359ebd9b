import { test, expect } from "./fixtures";
import { type APIRequestContext } from "@playwright/test";
import { logHas, proxlbRunning, proxmoxApi, quietWindow, status } from "./proxlb";

// Run now against the demo's real ProxLB 2.3.0: after a guest is moved by hand (so there is
// something to balance), "Rebalance now" shows the plan, asks, restarts ProxLB, and the view
// shows the run and its migrations live.

/** Migrates up to `count` running VMs onto one node, as a person would (through Proxmox). */
async function pileUp(api: APIRequestContext, count: number) {
  const resources = await api.get("cluster/resources?type=vm");
  expect(resources.ok()).toBeTruthy();
  const vms = ((await resources.json()).data as Array<Record<string, unknown>>).filter(
    (g) => g.type === "qemu" && g.status === "running" && !g.template && !g.lock,
  );
  const target = String(vms[0].node);
  const moved = vms.filter((g) => g.node !== target).slice(0, count);
  for (const vm of moved) {
    const migrate = await api.post(`nodes/${vm.node}/qemu/${vm.vmid}/migrate`, {
      form: { target, online: "1" },
    });
    expect(migrate.ok(), await migrate.text()).toBeTruthy();
  }
  // Until they have arrived: ProxLB 2.3.0 exits 1 when a guest finishes migrating while it
  // reads the guests' configs ("Configuration file … does not exist"), so the run must not
  // start while these migrations are still under way.
  await expect
    .poll(
      async () => {
        const now = ((await (await api.get("cluster/resources?type=vm")).json()).data as Array<Record<string, unknown>>);
        return moved.every((m) => now.some((g) => g.vmid === m.vmid && g.node === target && !g.lock));
      },
      { timeout: 60_000, message: "the piled-up migrations end" },
    )
    .toBe(true);
}

test("run now migrates guests in the simulator and the view shows it live", async ({ page }) => {
  // The sum of the phases' own bounds below (150 + 60 + 60 + 60 + 120 s) and a margin: each
  // phase fails with its own message before the test's budget runs out.
  test.setTimeout(480_000);
  await proxlbRunning(page);
  // Run now is refused while a run is in progress, and the demo's daemon runs every minute: set
  // the cluster up in a sleep with time to spare (the pile-up takes 4 s per migration).
  await quietWindow(page, 45_000);
  await pileUp(await proxmoxApi(), 3);
  // ProxLB Web's replay sees the pile-up: there is something to balance.
  await expect
    .poll(async () => ((await (await page.request.get("/api/balancing/plan")).json()).moves ?? []).length, {
      timeout: 60_000,
    })
    .toBeGreaterThan(0);
  const pid = (await status(page)).service.pid;
  await page.goto("/balancing");
  const panel = page.getByTestId("run-now");
  await panel.getByTestId("run-now-button").click();
  const dialog = page.getByRole("dialog", { name: "Rebalance now?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("By today's plan it would migrate");
  // Nothing happened yet.
  expect((await status(page)).service.pid).toBe(pid);
  await dialog.getByTestId("confirm-run").click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(panel.getByTestId("run-now-outcome")).toContainText("ProxLB was started");
  // Live: the run state and ProxLB's migration lines arrive without a reload.
  await expect(panel.getByTestId("run-progress")).toContainText("Balancing: Starting to migrate", { timeout: 60_000 });
  await expect(panel.getByTestId("run-progress")).toContainText("Finished: Balancing loop", { timeout: 120_000 });
  await logHas(page, "Balancing: Starting to migrate");
  await expect.poll(async () => (await status(page)).service.pid).not.toBe(pid);
});
