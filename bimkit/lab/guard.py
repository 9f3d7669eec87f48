"""Routing that keeps every lab packet on this box.

- The lab's supernet gets an `unreachable` route in the main table: an address
  of the supernet that is not on a lab bridge goes nowhere.
- Packets arriving from a lab bridge are routed by their own table, which
  knows the lab bridges and `unreachable default`: a lab machine reaches other
  lab machines and the box, never the box's uplink.

The box forwards between lab bridges (the sites' WAN), so forwarding is on
while the lab exists; its earlier value is restored by `remove_guard`.
Everything carries the route protocol and rule preference below, which is
how `remove_guard` finds it.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any

from bimkit.errors import BimkitError
from bimkit.lab.plan import BRIDGE_PREFIX
from dr.process import run
from dr.sandbox.network import BridgeSpec

ROUTE_PROTO = "121"
RULE_PREF = "2121"
TABLE = "2121"
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


class SupernetConflict(BimkitError):
    pass


def conflicting_routes(routes: list[dict[str, Any]], supernet: IPv4Network) -> list[str]:
    """Routes of the box, other than the lab's own, whose destination overlaps `supernet`.

    + routes: `ip -j route show table all` output
    Default routes overlap everything and are not conflicts.
    """
    conflicts = []
    for route in routes:
        dst = route.get("dst", "")
        if dst in ("", "default") or ":" in dst:
            continue
        if str(route.get("protocol")) == ROUTE_PROTO or str(route.get("table")) == TABLE:
            continue
        if str(route.get("dev", "")).startswith(BRIDGE_PREFIX):
            continue
        network = ip_network(dst, strict=False)
        if network.version == 4 and network.overlaps(supernet):
            via = f" via {route['gateway']}" if "gateway" in route else ""
            conflicts.append(f"{dst} dev {route.get('dev', '?')}{via}")
    return conflicts


def refuse_overlapping_supernet(supernet: IPv4Network) -> None:
    routes = json.loads(run(["ip", "-j", "route", "show", "table", "all"]).stdout or "[]")
    conflicts = conflicting_routes(routes, supernet)
    if conflicts:
        raise SupernetConflict(
            f"lab: the estate's supernet {supernet} overlaps this box's own routes "
            f"({'; '.join(conflicts)}); the lab would shadow real networks. Use a data folder "
            "with another supernet (--data) or run the lab on another box."
        )


def apply_guard(supernet: IPv4Network, bridges: tuple[BridgeSpec, ...]) -> None:
    """Install the guard for `bridges` and turn forwarding on."""
    context = "lab: routing guard"
    run(
        ["ip", "route", "replace", "unreachable", str(supernet), "proto", ROUTE_PROTO],
        context=context,
    )
    run(
        ["ip", "route", "replace", "unreachable", "default", "table", TABLE, "proto", ROUTE_PROTO],
        context=context,
    )
    rules = json.loads(run(["ip", "-j", "rule", "show"]).stdout or "[]")
    guarded = {rule.get("iif") for rule in rules if str(rule.get("priority")) == RULE_PREF}
    for bridge in bridges:
        for address in bridge.addresses:
            run(
                [
                    "ip",
                    "route",
                    "replace",
                    str(address.network),
                    "dev",
                    bridge.name,
                    "table",
                    TABLE,
                    "proto",
                    ROUTE_PROTO,
                ],
                context=context,
            )
        if bridge.name not in guarded:
            run(
                ["ip", "rule", "add", "pref", RULE_PREF, "iif", bridge.name, "lookup", TABLE],
                context=context,
            )
    IP_FORWARD.write_text("1\n", encoding="utf-8")


def remove_guard(ip_forward_before: str | None) -> None:
    """Remove every rule and route the guard installed; restore ip_forward."""
    while run(["ip", "rule", "del", "pref", RULE_PREF], check=False).returncode == 0:
        pass
    run(["ip", "route", "flush", "table", TABLE], check=False)
    run(["ip", "route", "flush", "proto", ROUTE_PROTO], check=False)
    if ip_forward_before is not None:
        IP_FORWARD.write_text(ip_forward_before + "\n", encoding="utf-8")
