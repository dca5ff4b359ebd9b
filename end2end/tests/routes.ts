/** The eight views of the spec: path, sidebar label and page heading. */
export const VIEWS = [
  { path: "/", label: "Dashboard" },
  { path: "/nodes", label: "Nodes" },
  { path: "/guests", label: "Guests" },
  { path: "/balancing", label: "Balancing" },
  { path: "/rules", label: "Rules" },
  { path: "/config", label: "Configuration" },
  { path: "/logs", label: "Logs" },
  { path: "/service", label: "Service" },
] as const;
