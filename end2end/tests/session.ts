import path from "node:path";
import { expect, type Page } from "@playwright/test";

/** Where the setup project keeps the demo user's session for every other test. */
export const DEMO_STATE = process.env.E2E_AUTH_STATE ?? path.resolve(__dirname, "../../target/e2e-auth/demo.json");
/** The same for the server that runs ProxLB (projects `*-proxlb`, setup project `setup-proxlb`). */
export const PROXLB_STATE =
  process.env.E2E_PROXLB_AUTH_STATE ?? path.resolve(__dirname, "../../target/e2e-auth/demo-proxlb.json");

/** A storage state without any cookie: `test.use({ storageState: SIGNED_OUT })`. */
export const SIGNED_OUT = { cookies: [], origins: [] };

/** Users of the demo scenario (crates/pve-sim/scenarios/demo-3node.yaml). */
export const PVE_USERS = {
  /** Every privilege: an operator. */
  root: { username: "root", realm: "pam", password: "pve-sim-demo", userId: "root@pam" },
  /** ProxLB's documented role (Sys.Audit, no Sys.Modify): a viewer. */
  proxlb: { username: "proxlb", realm: "pve", password: "proxlb-demo", userId: "proxlb@pve" },
  /** PVEAuditor: read-only, a viewer. */
  auditor: { username: "auditor", realm: "pve", password: "auditor-demo", userId: "auditor@pve" },
} as const;

type PveUser = (typeof PVE_USERS)[keyof typeof PVE_USERS];

/** Logs in through the login form (works with and without JavaScript). */
export async function logIn(page: Page, user: PveUser, next?: string) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await page.getByLabel("User name").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByLabel("Realm").selectOption(user.realm);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page.getByTestId("user-name")).toHaveText(user.userId);
}

/** Opens the user menu in the top bar (a <details> disclosure: works without JavaScript). */
export async function openUserMenu(page: Page) {
  const menu = page.getByTestId("user-menu");
  if ((await menu.getAttribute("open")) === null) await menu.locator("summary").click();
  await expect(menu).toHaveAttribute("open", "");
  return menu;
}
