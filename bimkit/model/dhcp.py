"""Address assignment for the estate (pure): which subnets Kea serves, pools, reservations.

Every site's data and voice VLANs are served by the DCs through relays at
the site gateways. A VLAN's pool runs from `pool_start` of its subnet to its
last usable address; fixed addresses (hosts of the data) stay below it, and
a host with a MAC gets a reservation for its address.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from bimkit.errors import Problem
from bimkit.model.estate import Estate, PlacedHost, Vlan
from bimkit.model.schema import DhcpSettings, Role, VlanKind

DHCP_KINDS = (VlanKind.data, VlanKind.voice)


@dataclass(frozen=True)
class Reservation:
    mac: str
    address: str
    hostname: str


@dataclass(frozen=True)
class DhcpSubnet:
    id: int
    """Kea's subnet id: stable while the site and VLAN stay (site number * 1000 + VLAN id)."""
    site: str
    kind: str
    subnet: str
    gateway: str
    pool: tuple[str, str]
    reservations: tuple[Reservation, ...]


def pool_of(vlan: Vlan, settings: DhcpSettings) -> tuple[IPv4Address, IPv4Address]:
    size = vlan.subnet.num_addresses
    first = vlan.subnet.network_address + max(2, int(size * settings.pool_start))
    if int(first) % 256 == 0:  # x.y.z.0 is valid inside a /23, but some clients refuse it
        first += 1
    return first, vlan.subnet.broadcast_address - 1


def dhcp_subnets(estate: Estate) -> list[DhcpSubnet]:
    settings = estate.config.dhcp
    subnets = []
    for site in sorted(estate.sites.values(), key=lambda s: s.number):
        for kind in DHCP_KINDS:
            if kind not in site.vlans:
                continue
            vlan = site.vlans[kind]
            first, last = pool_of(vlan, settings)
            hosts = [h for h in estate.hosts_at(site.name) if h.vlan.kind is kind and h.mac]
            subnets.append(
                DhcpSubnet(
                    id=site.number * 1000 + vlan.id,
                    site=site.name,
                    kind=str(kind),
                    subnet=str(vlan.subnet),
                    gateway=str(vlan.gateway),
                    pool=(str(first), str(last)),
                    reservations=tuple(
                        Reservation(str(h.mac), str(h.address), h.name)
                        for h in sorted(hosts, key=lambda h: h.address)
                    ),
                )
            )
    return subnets


def provisioning_url(estate: Estate) -> str | None:
    """Option 66 for phones: the data's URL, else the PBX's own provisioning path."""
    if estate.config.dhcp.phone_provisioning_url:
        return estate.config.dhcp.phone_provisioning_url
    pbx = estate.hosts_with(Role.pbx)
    return f"http://{pbx[0].address}/prov/" if pbx else None


def fixed_addresses_in_pools(estate: Estate) -> list[Problem]:
    """A host of the data whose fixed address lies in its VLAN's pool would be handed out twice."""
    problems = []
    for host in estate.hosts.values():
        if host.vlan.kind not in DHCP_KINDS:
            continue
        first, last = pool_of(host.vlan, estate.config.dhcp)
        if first <= host.address <= last:
            problems.append(_in_pool(host, first, last))
    return problems


def _in_pool(host: PlacedHost, first: IPv4Address, last: IPv4Address) -> Problem:
    return Problem(
        host.source.file,
        f"{host.source.path}.address",
        f"{host.name}'s address {host.address} lies in the DHCP pool {first}-{last} of its "
        f"{host.vlan.kind} VLAN; give it an address below {first} (or change dhcp.pool_start)",
    )
