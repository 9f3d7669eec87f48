"""Switches: drift check and converged apply over 50 simulated switches against the same over 1.

    .venv/bin/python benchmarks/switches.py [--count 50]

Needs no lab. Starts simulated Cisco IOS switches on loopback
(bimkit/lab/simulated_switch.py; a simulation, as no switch firmware runs
here), in one process per ten switches, each with the port plan of the
example estate's zabita-sw1. A pyinfra inventory of them is written to a
scratch folder; each is brought to its plan once (not timed). Then, for 1
switch and for all of them:

- drift check: `bimkit net drift`'s own code (every running configuration
  pulled in parallel over SSH, compared with the plan by hier_config);
- converged apply: `pyinfra <inventory> deploys/switches.py -y`, which must
  change nothing; and a bare pyinfra `show clock` over the same switches for scale.

Prints seconds and the ratio of N switches to 1 (target: at most 5x for 50x).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from bimkit.cli.net import running_configs  # noqa: E402
from bimkit.inventory import plan_inventory  # noqa: E402
from bimkit.lab.switches import free_ports, simulated_switches  # noqa: E402
from bimkit.model.load import load_estate  # noqa: E402
from roles.switch.plan import drift  # noqa: E402

TEMPLATE = "zabita-sw1"
PER_PROCESS = 10


def switch_data(count: int, password: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Simulated switch specs and host data: `count` copies of the template switch."""
    entries = dict(plan_inventory(load_estate(REPO))["switches"])
    data = entries[f"@netmiko/{TEMPLATE}"]
    specs = [
        {
            "name": f"bench-sw{index:02d}",
            "port": 0,
            "username": data["switch"]["login_user"],
            "password": password,
            "management_vlan": data["switch"]["management_vlan"],
            "address": data["switch"]["address"],
            "uplink": "GigabitEthernet1/0/24",
            "minute_seconds": 60,
        }
        for index in range(1, count + 1)
    ]
    return specs, data


def pyinfra(inventory: Path, deploy: str, env: dict[str, str]) -> tuple[float, int]:
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "pyinfra"), str(inventory), deploy, "-y"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    changed = re.search(r"Grand total\s+\d+\s+(\S+)", result.stdout + result.stderr)
    if result.returncode != 0 or not changed:
        sys.exit(f"{deploy} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds, 0 if changed[1] == "-" else int(changed[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="simulated switches")
    args = parser.parse_args()
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "BIMKIT_SWITCH_PASSWORD": password,
        "BIMKIT_SNMP_AUTH_PASSWORD": secrets.token_urlsafe(12),
        "BIMKIT_SNMP_PRIV_PASSWORD": secrets.token_urlsafe(12),
    }
    os.environ.update(env)
    specs, data = switch_data(args.count, password)
    for spec, port in zip(specs, free_ports(len(specs)), strict=True):
        spec["port"] = port
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-sw-") as scratch, ExitStack() as stack:
        for first in range(0, len(specs), PER_PROCESS):
            stack.enter_context(simulated_switches(specs[first : first + PER_PROCESS]))
        hosts = {
            spec["name"]: {**data, "netmiko_host": "127.0.0.1", "netmiko_port": spec["port"]}
            for spec in specs
        }

        def inventory(names: list[str]) -> Path:
            path = Path(scratch) / f"inventory_{len(names)}.py"
            chosen = [(f"@netmiko/{name}", hosts[name]) for name in names]
            listed = json.dumps(json.dumps(chosen))
            path.write_text(f"import json\nswitches = [tuple(e) for e in json.loads({listed})]\n")
            return path

        every = inventory(list(hosts))
        print(f"bringing {len(hosts)} simulated switches to their plan (not timed) ...")
        _, changed = pyinfra(every, "deploys/switches.py", env)
        assert changed == len(hosts), f"{changed} of {len(hosts)} switches changed"
        rows = []
        for names in ([specs[0]["name"]], list(hosts)):
            chosen = {name: hosts[name] for name in names}
            started = time.monotonic()
            configs = running_configs(chosen)
            drifted = [n for n, c in configs.items() if not isinstance(c, str) or drift(
                hosts[n]["switch"], c)]  # fmt: skip
            checked = time.monotonic() - started
            assert not drifted, f"drift on {drifted}"
            path = inventory(names)
            converged, again = pyinfra(path, "deploys/switches.py", env)
            assert again == 0, f"the converged apply changed {again} switches"
            bare, _ = pyinfra(path, "benchmarks/pyinfra_show_clock.py", env)
            rows.append((len(names), checked, converged, bare))
            print(f"N={len(names):3d}  drift check {checked:6.2f} s  converged apply "
                  f"{converged:6.2f} s  bare pyinfra `show clock` {bare:6.2f} s")  # fmt: skip
        (one, *_), (many, *_) = rows
        print(f"ratio N={many} / N={one} ({many / one:.0f}x switches): drift check "
              f"{rows[1][1] / rows[0][1]:.2f}x, converged apply {rows[1][2] / rows[0][2]:.2f}x "
              f"(target at most 5x)")  # fmt: skip


if __name__ == "__main__":
    main()
