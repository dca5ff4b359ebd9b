import { readFileSync } from "node:fs";
import path from "node:path";
import { request, test, type APIRequestContext } from "@playwright/test";

const defaultDataDir = process.env.E2E_DATA_DIR ?? path.resolve(__dirname, "../../target/e2e-data");

/** The data directory of the server the running test talks to: each project names its server's
 * in `metadata.dataDir` (playwright.config.ts runs one server with ProxLB off, one with it on). */
export function serverDataDir(): string {
  let fromProject: unknown;
  try {
    fromProject = test.info().project.metadata?.dataDir;
  } catch {
    // Called outside a test: the fixed cluster's server.
  }
  return typeof fromProject === "string" ? fromProject : defaultDataDir;
}

/** The embedded simulator's base URL, read from the ProxLB config demo mode wrote. */
export function simulatorUrl(): string {
  const config = readFileSync(path.join(serverDataDir(), "demo", "proxlb.yaml"), "utf8");
  const host = config.match(/hosts:\s*\n\s*-\s*'?"?([0-9.]+:[0-9]+)/);
  if (!host) throw new Error(`no host in the demo config:\n${config}`);
  return `https://${host[1]}`;
}

/** A request context for the simulator's admin endpoint (self-signed certificate). */
export async function simulatorAdmin(): Promise<APIRequestContext> {
  return request.newContext({ baseURL: simulatorUrl(), ignoreHTTPSErrors: true });
}
