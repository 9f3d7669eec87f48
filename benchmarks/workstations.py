"""Workstation joins on the lab: N workstations joined in parallel, then a converged re-run.

    sudo .venv/bin/python benchmarks/workstations.py [--sizes 5,10,20]

Needs the lab up with the estate deployed (`./dev main`). Writes a copy of the
estate data with one more unit site, `olcum`, of as many workstations as the
largest size (`bimkit site new`), boots its machines and gives them their
base, and the DCs the site's AD site and OU (not timed). Then for each N:
the computer accounts of the first N workstations are deleted on the primary
DC, so that each must join again, and `deploys/workstations.py` limited to
those N hosts is timed (pyinfra runs the hosts side by side, so the joins
run in parallel against the one primary DC); then a converged re-run, which
must change nothing, and a bare pyinfra `true` on the same hosts. Prints
seconds per N, per host and the growth from the smallest N. Puts the DCs
back to the estate's own data at the end; the new site's machines stay up
until `bimkit lab down`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from bimkit.sites import copy_estate_data  # noqa: E402

SITE, NUMBER = "olcum", 9


def run(*argv: str, data: Path | None = None) -> tuple[float, str]:
    """Run a command in the lab (it must succeed); its wall time and output."""
    env = {**os.environ, "BIMKIT_LAB": "1"}
    if data is not None:
        env["BIMKIT_DATA"] = str(data)
    started = time.monotonic()
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started, result.stdout + result.stderr


def pyinfra(deploy: str, hosts: list[str], data: Path) -> tuple[float, int]:
    """Seconds of a deploy limited to `hosts`, and how many operations changed a host."""
    limits = [option for host in hosts for option in ("--limit", host)]
    seconds, output = run(str(BIN / "pyinfra"), "inventory.py", deploy, "-y", *limits, data=data)
    changed = re.search(r"Grand total\s+\d+\s+(\S+)", output)
    assert changed, output[-2000:]
    return seconds, 0 if changed[1] == "-" else int(changed[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10,20", help="numbers of workstations to join")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    bimkit = str(BIN / "bimkit")
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-ws-") as scratch:
        data = Path(scratch)
        copy_estate_data(REPO, data)
        run(bimkit, "site", "new", SITE, "--number", str(NUMBER), "--title", "Ölçüm binası",
            "--workstations", str(max(sizes)), "--phones", "0", "--data", str(data))  # fmt: skip
        hosts = [f"{SITE}-ws{index:02d}" for index in range(1, max(sizes) + 1)]
        print(f"booting {len(hosts)} workstations of site {SITE} and giving them their base ...")
        run(bimkit, "lab", "up", "--sites", SITE, "--data", str(data))
        run(str(BIN / "pyinfra"), "inventory.py", "deploys/site.py", "-y", "--limit",
            f"site_{SITE}", "--limit", "domain_controllers", data=data)  # fmt: skip
        try:
            rows = []
            for size in sizes:
                chosen = hosts[:size]
                for host in chosen:
                    run(bimkit, "lab", "ssh", "dc1", "--",
                        f"samba-tool computer delete {host.upper()} >/dev/null")  # fmt: skip
                joined, changed = pyinfra("deploys/workstations.py", chosen, data)
                assert changed >= size, f"{changed} operations changed for {size} joins"
                again, unchanged = pyinfra("deploys/workstations.py", chosen, data)
                assert unchanged == 0, f"the converged re-run changed {unchanged} operations"
                bare, _ = pyinfra("benchmarks/pyinfra_true.py", chosen, data)
                rows.append((size, joined, again, bare))
                print(f"N={size:3d}  join {joined:6.1f} s ({joined / size:5.2f} s a host)  "
                      f"converged {again:5.1f} s  bare `true` {bare:5.1f} s")  # fmt: skip
            smallest, largest = rows[0], rows[-1]
            print(f"growth N={smallest[0]} -> N={largest[0]} ({largest[0] / smallest[0]:.0f}x "
                  f"hosts): join {largest[1] / smallest[1]:.2f}x, converged "
                  f"{largest[2] / smallest[2]:.2f}x")  # fmt: skip
        finally:
            # The DCs without the benchmark's site again (its DHCP scope, its hosts).
            run(str(BIN / "pyinfra"), "inventory.py", "deploys/site.py", "-y", "--limit",
                "domain_controllers")  # fmt: skip


if __name__ == "__main__":
    main()
