/** The views in the sidebar (the spec's eight and the migration history): path, label and heading. */
export const VIEWS = [
  { path: "/", label: "Dashboard" },
  { path: "/nodes", label: "Nodes" },
  { path: "/guests", label: "Guests" },
  { path: "/balancing", label: "Balancing" },
  { path: "/rules", label: "Rules" },
  { path: "/config", label: "Configuration" },
  { path: "/logs", label: "Logs" },
  { path: "/migrations", label: "Migrations" },
  { path: "/service", label: "Service" },
] as const;
