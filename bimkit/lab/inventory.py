"""The inventory as the lab sees it: only machines that are up, reached with the lab's key.

`inventory.py` applies this when BIMKIT_LAB is set, so the same deploys run
unchanged against the lab and against real hosts.
"""

from __future__ import annotations

import json
from typing import Any

from bimkit.errors import BimkitError
from bimkit.inventory import SWITCH_CONNECTOR, HostEntry
from bimkit.lab import mail_sink, tsa
from bimkit.lab.state import LabPaths, LabState


def lab_time_stamps(archive: dict[str, Any], gateway: str) -> dict[str, Any]:
    """The log server seals with the lab's TSA (`bimkit lab up` runs it on its gateway)."""
    return {
        **archive,
        "tsa_url": tsa.url(gateway),
        "tsa_certificates": lab_tsa().ca_file.read_text(),
    }


def lab_tsa() -> tsa.LabTsa:
    return tsa.make_tsa(tsa.tsa_folder(LabPaths.from_env()))


def lab_groups(groups: dict[str, list[HostEntry]], paths: LabPaths) -> dict[str, list[HostEntry]]:
    """`groups` restricted to lab machines, with connection data and the lab's apt proxy."""
    state = LabState.load(paths)
    if state is None:
        raise BimkitError("BIMKIT_LAB is set but the lab is down: run `bimkit lab up` first")

    def lab_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
        machine = state.machines[name]
        if "log_archive" in data:
            data = {**data, "log_archive": lab_time_stamps(data["log_archive"], machine.gateway)}
        if "drill" in data:
            certificates = lab_tsa().ca_file.read_text()
            data = {**data, "drill": {**data["drill"], "tsa_certificates": certificates}}
        if data.get("pbx", {}).get("mail_relay"):
            # Voicemail goes to the lab's SMTP sink (`bimkit lab up` runs it on the gateway).
            data = {**data, "pbx": {**data["pbx"], "mail_relay": mail_sink.relay(machine.gateway)}}
        return {
            **data,
            "ssh_hostname": machine.address,
            "ssh_user": "root",
            "ssh_key": str(paths.ssh_key),
            "ssh_known_hosts_file": str(paths.known_hosts),
            "ssh_strict_host_key_checking": "yes",
            "apt_proxy": f"http://{machine.gateway}:{state.apt_proxy_port}",
        }

    switches = simulated_switches(paths)

    def lab_entry(name: str, data: dict[str, Any]) -> HostEntry | None:
        if name in state.machines:
            return name, lab_data(name, data)
        device = name.removeprefix(SWITCH_CONNECTOR)
        if name.startswith(SWITCH_CONNECTOR) and device in switches:
            return name, {**data, **switches[device]}
        return None

    return {
        group: [entry for name, data in entries if (entry := lab_entry(name, data))]
        for group, entries in groups.items()
    }


def simulated_switches(paths: LabPaths) -> dict[str, dict[str, Any]]:
    """name -> connection data of each simulated switch running now (none: {})."""
    if not paths.simulated_switches.exists():
        return {}
    running: list[dict[str, Any]] = json.loads(paths.simulated_switches.read_text())
    return {
        device["name"]: {
            "netmiko_host": "127.0.0.1",
            "netmiko_port": device["port"],
            "netmiko_minute_seconds": device["minute_seconds"],
        }
        for device in running
    }
