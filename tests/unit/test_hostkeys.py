"""Pinned SSH host keys: what is recorded, what a scan may change, and the inventory's use."""

from __future__ import annotations

from pathlib import Path

from bimkit import hostkeys
from bimkit.hostkeys import HostTarget, KeyState
from bimkit.inventory import estate_inventory, unpinned_hosts
from bimkit.model.load import load_estate
from tests.conftest import EstateData

ED1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne"
ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITwo"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ"
KEYSCAN = f"# 10.21.17.10:22 SSH-2.0-OpenSSH_10.0\n10.21.17.10 {ED1}\n10.21.17.10 {RSA}\n"


def test_keyscan_output_gives_the_keys_without_banners() -> None:
    assert hostkeys.parse_keyscan(KEYSCAN) == {ED1, RSA}


def test_known_hosts_round_trips_with_name_and_address() -> None:
    keys = {"dc1": frozenset({ED1, RSA})}
    text = hostkeys.known_hosts_text(keys, [HostTarget("dc1", "10.21.17.10")])
    assert f"dc1,10.21.17.10 {ED1}\n" in text
    assert hostkeys.parse_known_hosts(text) == keys


def test_a_changed_key_is_reported_and_only_replaced_when_named() -> None:
    recorded = {"dc1": frozenset({ED1}), "fs1": frozenset({ED1})}
    offered = {"dc1": frozenset({ED2}), "fs1": frozenset({ED1}), "log1": frozenset({ED1}),
               "pbx1": frozenset()}  # fmt: skip
    assert hostkeys.compare(recorded, offered) == {
        "dc1": KeyState.changed,
        "fs1": KeyState.ok,
        "log1": KeyState.not_recorded,
        "pbx1": KeyState.unreachable,
    }
    keys, refused = hostkeys.merged(recorded, offered, replace=[])
    assert refused == ["dc1"] and keys["dc1"] == {ED1} and keys["log1"] == {ED1}
    assert "pbx1" not in keys
    keys, refused = hostkeys.merged(recorded, offered, replace=["dc1"])
    assert refused == [] and keys["dc1"] == {ED2}


def test_the_inventory_checks_every_ssh_host_strictly_against_the_pinned_file(
    estate_data: EstateData,
) -> None:
    estate = load_estate(estate_data.root)
    groups = estate_inventory(estate)
    dc1 = dict(groups["linux"])["dc1"]
    assert dc1["ssh_strict_host_key_checking"] == "yes"
    assert dc1["ssh_known_hosts_file"] == str(Path(estate_data.root) / "known_hosts")
    assert "ssh_strict_host_key_checking" not in dict(groups["switches"])["@netmiko/core-sw1"]


def test_unpinned_hosts_are_named(estate_data: EstateData) -> None:
    (estate_data.root / "known_hosts").write_text(f"dc1,10.21.17.10 {ED1}\n")
    unpinned = unpinned_hosts(load_estate(estate_data.root))
    assert "dc1" not in unpinned and "fs1" in unpinned and "fen-ws03" not in unpinned
