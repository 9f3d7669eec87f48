"""Run the estate's Cisco IOS switches as simulated switches on loopback, for tests and benchmarks.

Each switch of the estate whose os is `cisco_ios` gets a simulated switch
(bimkit/lab/simulated_switch.py) on its own 127.0.0.1 port, in one process.
While they run, `simulated-switches.json` in the lab folder tells the lab's
inventory where they listen, so `pyinfra inventory.py deploys/switches.py`
reaches them as it would reach the real ones.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bimkit.errors import BimkitError
from bimkit.lab.state import LabPaths
from bimkit.model.estate import Estate
from bimkit.model.schema import OsFamily, PortUse, Role


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def device_specs(
    estate: Estate, password: str, minute_seconds: float, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """One simulated switch per IOS switch of the estate (or of `names`)."""
    switches = sorted(
        (h for h in estate.hosts_with(Role.switch) if h.os is OsFamily.cisco_ios),
        key=lambda h: h.name,
    )
    if names is not None:
        switches = [h for h in switches if h.name in names]
    ports = free_ports(len(switches))
    specs = []
    for switch, port in zip(switches, ports, strict=True):
        uplink = next((p.first for p in switch.ports if p.use is PortUse.uplink), 1)
        specs.append({
            "name": switch.name,
            "port": port,
            "username": estate.config.switching.login_user,
            "password": password,
            "management_vlan": switch.vlan.id,
            "address": str(switch.address),
            "uplink": f"GigabitEthernet1/0/{uplink}",
            "minute_seconds": minute_seconds,
        })  # fmt: skip
    return specs


@contextmanager
def simulated_switches(
    specs: list[dict[str, Any]], paths: LabPaths | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Run `specs` until the block ends; with `paths`, the lab's inventory sees them."""
    with tempfile.TemporaryDirectory(prefix="bimkit-switches-") as folder:
        spec_file = Path(folder) / "switches.json"
        spec_file.write_text(json.dumps(specs))
        os.chmod(spec_file, 0o600)  # the switches' password
        process = subprocess.Popen(
            [sys.executable, "-m", "bimkit.lab.simulated_switch", str(spec_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise BimkitError(f"the simulated switches did not start (exit {process.poll()})")
            if paths is not None:
                public = [{k: v for k, v in s.items() if k != "password"} for s in specs]
                paths.simulated_switches.write_text(json.dumps(public, indent=1))
            yield specs
        finally:
            if paths is not None:
                paths.simulated_switches.unlink(missing_ok=True)
            process.terminate()
            process.wait(timeout=30)
