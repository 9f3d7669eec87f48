"""What the lab looks like for an estate: one bridge per site, one machine per Linux host.

Pure. Names carry fixed prefixes so that `lab down` can find every piece
by name, even after a crashed `up` that recorded nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from bimkit.errors import BimkitError
from bimkit.model.estate import Estate, PlacedHost
from bimkit.model.schema import Role
from dr.sandbox.image import ImageRecipe, for_release
from dr.sandbox.network import Attachment, BridgeSpec

BRIDGE_PREFIX = "bkbr"
VETH_PREFIX = "bkv"
NETNS_PREFIX = "bk-"


def bridge_name(site_number: int) -> str:
    return f"{BRIDGE_PREFIX}{site_number}"


def veth_name(host: str) -> str:
    # Interface names stop at 15 characters; host names may be 63.
    return VETH_PREFIX + hashlib.sha1(host.encode()).hexdigest()[:10]


def netns_name(host: str) -> str:
    return NETNS_PREFIX + host


@dataclass(frozen=True)
class LabMachine:
    host: str
    site: str
    attachment: Attachment
    nested: bool
    """DR hosts boot restore-drill sandboxes of their own."""
    release: str = "trixie"
    """The Debian release it boots (the host's in the estate)."""

    @property
    def address(self) -> IPv4Address:
        return self.attachment.address.ip


@dataclass(frozen=True)
class LabPlan:
    supernet: IPv4Network
    sites: tuple[str, ...]
    bridges: tuple[BridgeSpec, ...]
    machines: tuple[LabMachine, ...]

    @property
    def gateways(self) -> tuple[IPv4Address, ...]:
        return tuple(address.ip for bridge in self.bridges for address in bridge.addresses)


class UnknownSite(BimkitError):
    pass


def plan_lab(estate: Estate, sites: list[str] | None = None) -> LabPlan:
    """The lab for `sites` (default: every site) of `estate`."""
    chosen = sorted(
        sites or estate.sites,
        key=lambda name: estate.sites[name].number if name in estate.sites else -1,
    )
    unknown = [name for name in chosen if name not in estate.sites]
    if unknown:
        raise UnknownSite(
            f"lab: no site {', '.join(f'`{u}`' for u in unknown)} in the estate; "
            f"sites: {', '.join(sorted(estate.sites))}"
        )
    bridges = []
    machines = []
    for name in chosen:
        site = estate.sites[name]
        bridge = bridge_name(site.number)
        # The box is every VLAN's gateway: one flat bridge carries all of a site's
        # subnets, as the kernel here has no 802.1Q devices.
        addresses = tuple(
            IPv4Interface(f"{vlan.gateway}/{vlan.subnet.prefixlen}")
            for vlan in sorted(site.vlans.values(), key=lambda v: v.id)
        )
        bridges.append(BridgeSpec(name=bridge, addresses=addresses))
        for host in sorted(estate.hosts_at(name), key=lambda h: h.name):
            if host.os.is_linux:
                machines.append(_machine(host, bridge))
    return LabPlan(
        supernet=estate.config.supernet,
        sites=tuple(chosen),
        bridges=tuple(bridges),
        machines=tuple(machines),
    )


def _machine(host: PlacedHost, bridge: str) -> LabMachine:
    return LabMachine(
        host=host.name,
        site=host.site,
        attachment=Attachment(
            netns=netns_name(host.name),
            host_link=veth_name(host.name),
            bridge=bridge,
            address=IPv4Interface(f"{host.address}/{host.vlan.subnet.prefixlen}"),
            gateway=host.vlan.gateway,
        ),
        nested=host.has(Role.dr_host),
        release=host.release,
    )


def image_recipe(release: str) -> ImageRecipe:
    """The lab image of a Debian release."""
    return for_release(release)


def needs_unified_cgroup(release: str) -> bool:
    """Unstable's systemd (262) will not boot on the box's hybrid cgroup hierarchy."""
    return release != "trixie"
