"""Network namespaces, bridges and veth links for sandbox machines.

Every function here is idempotent: it reads what exists and adds only what
is missing, so a second call (or a call after a crash) converges instead of
failing on "File exists".
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from dr.process import run

NETNS_DIR = Path("/run/netns")


@dataclass(frozen=True)
class BridgeSpec:
    """A Linux bridge in the root namespace and the addresses the box has on it."""

    name: str
    addresses: tuple[IPv4Interface, ...]


@dataclass(frozen=True)
class Attachment:
    """A namespace's `eth0`, the veth peer of `host_link` on `bridge`."""

    netns: str
    host_link: str
    bridge: str
    address: IPv4Interface
    gateway: IPv4Address


def link_names(netns: str | None = None) -> set[str]:
    where = ["-n", netns] if netns else []
    out = run(["ip", *where, "-j", "link", "show"], context="network: list links").stdout
    return {link["ifname"] for link in json.loads(out or "[]")}


def link_addresses(name: str) -> set[IPv4Interface]:
    out = run(["ip", "-j", "-4", "addr", "show", "dev", name], context=f"network: {name}").stdout
    return {
        IPv4Interface(f"{info['local']}/{info['prefixlen']}")
        for link in json.loads(out or "[]")
        for info in link.get("addr_info", [])
    }


def netns_names() -> set[str]:
    return {path.name for path in NETNS_DIR.glob("*")} if NETNS_DIR.is_dir() else set()


def ensure_bridge(bridge: BridgeSpec) -> None:
    context = f"network: bridge `{bridge.name}`"
    if bridge.name not in link_names():
        run(["ip", "link", "add", bridge.name, "type", "bridge"], context=context)
    present = link_addresses(bridge.name)
    for address in bridge.addresses:
        if address not in present:
            run(["ip", "addr", "add", str(address), "dev", bridge.name], context=context)
    run(["ip", "link", "set", bridge.name, "up"], context=context)


def ensure_netns(name: str) -> None:
    if name not in netns_names():
        run(["ip", "netns", "add", name], context=f"network: namespace `{name}`")
    run(["ip", "-n", name, "link", "set", "lo", "up"], context=f"network: namespace `{name}`")


def attach(link: Attachment) -> None:
    """Give namespace `link.netns` an `eth0` on the bridge, its address and default route."""
    context = f"network: `{link.netns}` on `{link.bridge}`"
    ensure_netns(link.netns)
    if link.host_link not in link_names():
        run(
            [
                "ip",
                "link",
                "add",
                link.host_link,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                link.netns,
            ],
            context=context,
        )
    run(["ip", "link", "set", link.host_link, "master", link.bridge, "up"], context=context)
    inside = ["ip", "-n", link.netns]
    run([*inside, "addr", "replace", str(link.address), "dev", "eth0"], context=context)
    run([*inside, "link", "set", "eth0", "up"], context=context)
    run([*inside, "route", "replace", "default", "via", str(link.gateway)], context=context)


def isolated_netns(name: str, address: IPv4Interface, bridge: str = "isolated0") -> None:
    """A namespace with loopback and a bridge of its own carrying `address`, nothing else.

    No link leaves the namespace and there is no default route: whatever runs
    in it reaches its own address and loopback, and no other address at all.
    """
    context = f"network: isolated namespace `{name}`"
    ensure_netns(name)
    inside = ["ip", "-n", name]
    if bridge not in link_names(name):
        run([*inside, "link", "add", bridge, "type", "bridge"], context=context)
    run([*inside, "addr", "replace", str(address), "dev", bridge], context=context)
    run([*inside, "link", "set", bridge, "up"], context=context)


def netns_pids(name: str) -> list[int]:
    result = run(["ip", "netns", "pids", name], check=False)
    return [int(pid) for pid in result.stdout.split()]


def delete_netns(name: str) -> None:
    """Kill whatever still runs in namespace `name`, then delete it."""
    if name not in netns_names():
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        pids = netns_pids(name)
        for pid in pids:
            _kill(pid, signum)
        deadline = time.monotonic() + 5
        while pids and netns_pids(name) and time.monotonic() < deadline:
            time.sleep(0.1)
    run(["ip", "netns", "delete", name], context=f"network: delete namespace `{name}`")


def delete_link(name: str) -> None:
    if name in link_names():
        run(["ip", "link", "delete", name], context=f"network: delete `{name}`")


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
