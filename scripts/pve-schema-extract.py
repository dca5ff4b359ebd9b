#!/usr/bin/env python3
"""Extracts the routes the PVE simulator serves from the official PVE API schema.

Reads the full `apiSchema` of pve-docs' `api-viewer/apidata.js` (the schema behind
https://pve.proxmox.com/pve-docs/api-viewer/; the checked-in extract was made from the copy in the
pve-docs Git repository, https://git.proxmox.com/?p=pve-docs.git, at PVE 9.1.3) and writes a
trimmed JSON extract with only the
routes in the simulator's route table (`ROUTES` in crates/pve-sim/src/routes/mod.rs): for every
"METHOD /path" its parameters (name -> type, optional, enum, minimum, maximum), the required
parameter names, whether additional parameters are allowed, and the `returns` schema (types,
properties, items, optional, enum; descriptions dropped). The extract is checked in
(crates/pve-sim/schema/pve-api-extract.json), so the tests need no copy of the 4 MB schema;
crates/pve-sim/tests/schema.rs validates the simulator against it.

Usage: scripts/pve-schema-extract.py --schema PATH/apidata.js [--routes PATH] [--out PATH] [--check]
(stdlib only; --check exits 1 when the checked-in extract is out of date).
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ROUTES = os.path.join(ROOT, "crates/pve-sim/src/routes/mod.rs")
DEFAULT_OUT = os.path.join(ROOT, "crates/pve-sim/schema/pve-api-extract.json")

# Keys kept from JSON-schema nodes (everything else, e.g. descriptions, is dropped).
KEEP = ("type", "optional", "enum", "minimum", "maximum", "additionalProperties")


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("[")
    end = text.rindex("]")
    return json.loads(text[start : end + 1])


def served_routes(path):
    """The (method, path) entries of the simulator's ROUTES table."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"pub const ROUTES: &\[\(&str, &str\)\] = &\[(.*?)\n\];", text, re.S)
    if not m:
        sys.exit(f"{path}: ROUTES table not found")
    routes = re.findall(r'\("([A-Z]+)",\s*"([^"]+)"\)', m.group(1))
    if not routes:
        sys.exit(f"{path}: ROUTES table is empty")
    return routes


def index_paths(nodes, out):
    for node in nodes:
        out[node["path"]] = node
        index_paths(node.get("children", []), out)
    return out


def trim(schema):
    """Trims a JSON-schema node to the keys the conformance test reads."""
    if not isinstance(schema, dict):
        return schema
    out = {k: schema[k] for k in KEEP if k in schema}
    if "properties" in schema:
        out["properties"] = {k: trim(v) for k, v in sorted(schema["properties"].items())}
    if "items" in schema:
        out["items"] = trim(schema["items"])
    return out


def extract(schema_path, routes_path):
    by_path = index_paths(load_schema(schema_path), {})
    routes = {}
    missing = []
    for method, path in served_routes(routes_path):
        info = by_path.get(path, {}).get("info", {}).get(method)
        key = f"{method} {path}"
        if info is None:
            missing.append(key)
            continue
        params = info.get("parameters", {})
        props = params.get("properties", {})
        routes[key] = {
            "parameters": {k: trim(v) for k, v in sorted(props.items())},
            "required": sorted(k for k, v in props.items() if not v.get("optional")),
            "additionalProperties": bool(params.get("additionalProperties", 0)),
            "returns": trim(info.get("returns", {})),
        }
    return {
        "source": os.path.basename(schema_path) + " (PVE API schema, pve-docs api-viewer apidata.js)",
        "generated_by": "scripts/pve-schema-extract.py",
        "not_in_schema": missing,
        "routes": routes,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", required=True, help="pve-docs api-viewer/apidata.js")
    ap.add_argument("--routes", default=DEFAULT_ROUTES)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="only compare with --out")
    args = ap.parse_args()
    data = extract(args.schema, args.routes)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.check:
        with open(args.out, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{args.out} is out of date; run {sys.argv[0]}")
        print(f"{args.out} is up to date ({len(data['routes'])} routes)")
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out}: {len(data['routes'])} routes", end="")
    if data["not_in_schema"]:
        print(f", not in the schema: {', '.join(data['not_in_schema'])}", end="")
    print()


if __name__ == "__main__":
    main()
