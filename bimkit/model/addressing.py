"""The municipal address plan: supernet -> site block -> VLAN subnet -> host.

Pure functions. Each raises `AddressPlanError` with a message that states
the rule; the validator adds the file and path.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from bimkit.model.schema import Role, VlanKind, VlanSpec, VlanTemplate


class AddressPlanError(ValueError):
    """A number that does not fit the address plan."""


def site_block(supernet: IPv4Network, site_prefix_length: int, number: int) -> IPv4Network:
    """The address block of site `number`: the number-th block of that size in the supernet.

    + supernet: e.g. 10.21.0.0/16
    + site_prefix_length: e.g. 20 (16 sites of 4096 addresses in a /16)
    + number: the site's number, from 0

        >>> site_block(IPv4Network("10.21.0.0/16"), 20, 2)
        IPv4Network('10.21.32.0/20')
    """
    if site_prefix_length < supernet.prefixlen:
        raise AddressPlanError(
            f"site blocks of /{site_prefix_length} are larger than the supernet {supernet}"
        )
    capacity = 2 ** (site_prefix_length - supernet.prefixlen)
    if not 0 <= number < capacity:
        raise AddressPlanError(
            f"site number {number} is outside the supernet {supernet}: "
            f"it holds sites 0 to {capacity - 1} of /{site_prefix_length}"
        )
    size = 2 ** (32 - site_prefix_length)
    return IPv4Network((int(supernet.network_address) + number * size, site_prefix_length))


def planned_subnet(block: IPv4Network, template: VlanTemplate) -> IPv4Network:
    """The subnet a VLAN kind gets inside a site block, by the estate's plan."""
    if template.prefix_length < block.prefixlen:
        raise AddressPlanError(
            f"{template.kind} subnets of /{template.prefix_length} do not fit a "
            f"/{block.prefixlen} site block"
        )
    capacity = 2 ** (template.prefix_length - block.prefixlen)
    if template.index >= capacity:
        raise AddressPlanError(
            f"{template.kind} subnet number {template.index} does not fit the site block "
            f"{block}: it holds {capacity} subnets of /{template.prefix_length}"
        )
    size = 2 ** (32 - template.prefix_length)
    start = int(block.network_address) + template.index * size
    return IPv4Network((start, template.prefix_length))


def vlan_subnet(block: IPv4Network, spec: VlanSpec, template: VlanTemplate | None) -> IPv4Network:
    """The site's own subnet for a VLAN: its override, else the plan's."""
    if spec.subnet is not None:
        return spec.subnet
    if template is None:
        raise AddressPlanError(f"the estate's `vlan_plan` has no `{spec.kind}` VLAN")
    return planned_subnet(block, template)


def gateway(subnet: IPv4Network, spec: VlanSpec) -> IPv4Address:
    """The VLAN's default gateway: as given, else the subnet's first usable address."""
    return spec.gateway if spec.gateway is not None else subnet.network_address + 1


def host_address(subnet: IPv4Network, address: IPv4Address | int) -> IPv4Address:
    """A host's IPv4 address from a full address or a host number inside `subnet`."""
    if isinstance(address, IPv4Address):
        return address
    usable = subnet.num_addresses - 2
    if not 1 <= address <= usable:
        raise AddressPlanError(
            f"host number {address} does not fit the subnet {subnet} (1 to {usable})"
        )
    return subnet.network_address + address


def usable(subnet: IPv4Network, address: IPv4Address) -> bool:
    """True when `address` is a host address of `subnet` (not its network or broadcast)."""
    return address in subnet and address not in (subnet.network_address, subnet.broadcast_address)


def default_vlan(roles: list[Role]) -> VlanKind:
    """The VLAN a host sits in when its entry does not say."""
    if Role.switch in roles:
        return VlanKind.management
    if Role.workstation in roles:
        return VlanKind.data
    return VlanKind.servers


def reverse_zones(subnets: Iterable[IPv4Network]) -> list[str]:
    """The in-addr.arpa zones that hold PTR records for `subnets`, on octet boundaries.

    A /23 needs two /24 zones; a /16 or larger, /16 zones.
    """
    zones: set[IPv4Network] = set()
    for subnet in subnets:
        prefix = 16 if subnet.prefixlen <= 16 else 24
        if subnet.prefixlen <= prefix:
            zones.update(subnet.subnets(new_prefix=prefix))
        else:
            zones.add(subnet.supernet(new_prefix=prefix))
    return [
        ".".join(reversed(str(zone.network_address).split(".")[: zone.prefixlen // 8]))
        + ".in-addr.arpa"
        for zone in sorted(zones)
    ]
