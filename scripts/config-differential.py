#!/usr/bin/env python3
"""Accept/reject of proxlb.yaml files by ProxLB's own config loader, for the differential test.

Usage: config-differential.py DIR
Loads every file in DIR (sorted by name) with ProxLB 2.3.0's ConfigParser, exactly as ProxLB
does at start (`proxlb/utils/config_parser.py`: yaml.FullLoader, then the pydantic model), and
prints one line per file: `<name> accept` or `<name> reject`. ProxLB exits (SystemExit) on a YAML
or validation error, and a constructor error (an invalid date) escapes as an exception: both are
a reject. Run it with the project's venv python (`.venv/bin/python`).
"""

import contextlib
import io
import logging
import os
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    # ProxLB's logger would log every rejection; keep the output to our lines.
    logging.disable(logging.CRITICAL)
    from proxlb.utils.config_parser import ConfigParser  # noqa: E402 (needs the venv)

    folder = Path(sys.argv[1])
    results = []
    for name in sorted(os.listdir(folder)):
        path = folder / name
        verdict = "accept"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                ConfigParser(path).get_config()
            except BaseException:  # noqa: BLE001 - SystemExit and constructor errors both reject
                verdict = "reject"
        results.append(f"{name} {verdict}")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
