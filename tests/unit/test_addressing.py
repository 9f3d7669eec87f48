"""The address plan: supernet -> site block -> VLAN subnet -> host."""

from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bimkit.model.addressing import (
    AddressPlanError,
    default_vlan,
    gateway,
    host_address,
    planned_subnet,
    reverse_zones,
    site_block,
    vlan_subnet,
)
from bimkit.model.schema import Role, VlanKind, VlanSpec, VlanTemplate

SUPERNET = IPv4Network("10.21.0.0/16")


def test_site_number_picks_its_block_in_the_supernet() -> None:
    assert site_block(SUPERNET, 20, 0) == IPv4Network("10.21.0.0/20")
    assert site_block(SUPERNET, 20, 3) == IPv4Network("10.21.48.0/20")
    assert site_block(SUPERNET, 20, 15) == IPv4Network("10.21.240.0/20")


def test_site_number_beyond_the_supernet_is_refused_with_the_range() -> None:
    with pytest.raises(AddressPlanError, match=r"site number 16 .* sites 0 to 15 of /20"):
        site_block(SUPERNET, 20, 16)


def test_site_blocks_larger_than_the_supernet_are_refused() -> None:
    with pytest.raises(AddressPlanError, match="larger than the supernet"):
        site_block(SUPERNET, 12, 0)


@given(st.integers(0, 15), st.integers(0, 15))
def test_different_site_numbers_never_overlap(first: int, second: int) -> None:
    a, b = site_block(SUPERNET, 20, first), site_block(SUPERNET, 20, second)
    assert a.subnet_of(SUPERNET) and b.subnet_of(SUPERNET)
    assert a.overlaps(b) == (first == second)


def test_vlan_subnet_is_laid_out_inside_the_block_by_the_plan() -> None:
    block = IPv4Network("10.21.48.0/20")
    data = VlanTemplate(kind=VlanKind.data, id=30, prefix_length=23, index=1)
    assert planned_subnet(block, data) == IPv4Network("10.21.50.0/23")


def test_vlan_index_beyond_the_block_is_refused() -> None:
    block = IPv4Network("10.21.48.0/20")
    guests = VlanTemplate(kind=VlanKind.guests, id=60, prefix_length=22, index=4)
    with pytest.raises(AddressPlanError, match="guests subnet number 4 does not fit"):
        planned_subnet(block, guests)


def test_site_override_wins_over_the_plan() -> None:
    spec = VlanSpec(kind=VlanKind.voice, subnet=IPv4Network("10.21.60.0/24"))
    template = VlanTemplate(kind=VlanKind.voice, id=40, prefix_length=23, index=2)
    assert vlan_subnet(IPv4Network("10.21.48.0/20"), spec, template) == spec.subnet


def test_vlan_missing_from_the_plan_needs_an_override() -> None:
    with pytest.raises(AddressPlanError, match="no `cameras` VLAN"):
        vlan_subnet(IPv4Network("10.21.48.0/20"), VlanSpec(kind=VlanKind.cameras), None)


def test_gateway_defaults_to_the_first_address() -> None:
    subnet = IPv4Network("10.21.50.0/23")
    assert gateway(subnet, VlanSpec(kind=VlanKind.data)) == IPv4Address("10.21.50.1")
    explicit = VlanSpec(kind=VlanKind.data, gateway=IPv4Address("10.21.51.254"))
    assert gateway(subnet, explicit) == IPv4Address("10.21.51.254")


def test_host_number_counts_from_the_subnet_start() -> None:
    subnet = IPv4Network("10.21.50.0/23")
    assert host_address(subnet, 11) == IPv4Address("10.21.50.11")
    assert host_address(subnet, 300) == IPv4Address("10.21.51.44")
    assert host_address(subnet, IPv4Address("10.21.51.7")) == IPv4Address("10.21.51.7")


def test_host_number_outside_the_subnet_is_refused() -> None:
    with pytest.raises(AddressPlanError, match=r"host number 255 does not fit .* \(1 to 254\)"):
        host_address(IPv4Network("10.21.17.0/24"), 255)


def test_hosts_sit_in_the_vlan_their_role_suggests() -> None:
    assert default_vlan([Role.switch]) is VlanKind.management
    assert default_vlan([Role.workstation]) is VlanKind.data
    assert default_vlan([Role.primary_dc]) is VlanKind.servers


def test_reverse_zones_cover_every_subnet_on_octet_boundaries() -> None:
    subnets = [
        IPv4Network("10.21.16.0/24"),
        IPv4Network("10.21.18.0/23"),
        IPv4Network("10.21.16.128/25"),  # inside a zone already listed
        IPv4Network("172.16.0.0/15"),
    ]
    assert reverse_zones(subnets) == [
        "16.21.10.in-addr.arpa",
        "18.21.10.in-addr.arpa",
        "19.21.10.in-addr.arpa",
        "16.172.in-addr.arpa",
        "17.172.in-addr.arpa",
    ]
