"""The lab's DHCP relays: what the site gateways' `ip helper-address` does in production.

The box is every site's gateway, so it relays: dnsmasq (relay mode only, no
DNS, no DHCP server of its own) takes a client's broadcast on a site bridge
and sends it, with the site's data gateway as giaddr, to every DC; Kea picks
the subnet by giaddr. One flat bridge carries all of a site's VLANs here (no
802.1Q on this kernel), so the lab relays each site's data VLAN; the voice
VLANs' options are checked by asking Kea directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from bimkit.lab.daemon import Daemon
from bimkit.lab.plan import LabPlan
from bimkit.lab.state import LabPaths
from bimkit.model.estate import Estate
from bimkit.model.schema import VlanKind


@dataclass(frozen=True)
class Relay:
    bridge: str
    giaddr: str
    servers: tuple[str, ...]


def plan_relays(estate: Estate, plan: LabPlan) -> list[Relay]:
    """A relay on each lab site with a data VLAN, to every DC that is a lab machine."""
    machines = {m.host for m in plan.machines}
    servers = tuple(str(dc.address) for dc in estate.domain_controllers if dc.name in machines)
    if not servers:
        return []
    relays = []
    for site_name, bridge in zip(plan.sites, plan.bridges, strict=True):
        site = estate.sites[site_name]
        if VlanKind.data in site.vlans:
            relays.append(Relay(bridge.name, str(site.vlans[VlanKind.data].gateway), servers))
    return relays


def dnsmasq_argv(relays: list[Relay], bridges: list[str], pid_file: str) -> list[str]:
    """Relay only: `--port=0` turns DNS off, and without `--dhcp-range` it serves nothing."""
    argv = [
        "dnsmasq", "--keep-in-foreground", "--port=0", "--no-resolv", "--no-hosts",
        f"--pid-file={pid_file}", "--log-dhcp", "--log-facility=-", "--bind-dynamic",
    ]  # fmt: skip
    # Replies from the DCs come back over their own site's bridge: listen on all.
    argv += [f"--interface={bridge}" for bridge in bridges]
    argv += [f"--dhcp-relay={r.giaddr},{server}" for r in relays for server in r.servers]
    return argv


def daemon(paths: LabPaths) -> Daemon:
    return Daemon("dhcp-relay", paths.root / "dhcp-relay", b"dnsmasq")


def ensure_running(paths: LabPaths, relays: list[Relay], bridges: list[str]) -> None:
    relay = daemon(paths)
    if not relays:
        relay.stop()
        return
    relay.ensure(dnsmasq_argv(relays, bridges, str(relay.pid_file)), write_pid=False)


def stop(paths: LabPaths) -> None:
    daemon(paths).stop()
