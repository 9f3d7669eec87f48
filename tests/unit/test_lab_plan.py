"""The lab's pure parts: plan, routing-guard conflicts, nspawn command, proxy config, image."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bimkit.cli import app
from bimkit.lab import lab
from bimkit.lab.aptproxy import config_text
from bimkit.lab.guard import conflicting_routes
from bimkit.lab.plan import UnknownSite, netns_name, plan_lab, veth_name
from bimkit.model.load import load_estate
from dr.sandbox.image import ImageRecipe, sources_text
from dr.sandbox.machine import MachineSpec, nspawn_argv
from tests.conftest import REPO

ESTATE = load_estate(REPO)


def test_lab_boots_linux_hosts_only_one_bridge_per_site() -> None:
    plan = plan_lab(ESTATE)
    assert plan.sites == ("merkez", "fkm", "zabita", "fen-isleri")
    assert [b.name for b in plan.bridges] == ["bkbr1", "bkbr2", "bkbr3", "bkbr4"]
    hosts = [m.host for m in plan.machines]
    assert "fen-ws03" not in hosts and "core-sw1" not in hosts  # Windows and switches
    assert len(hosts) == 12


def test_site_bridge_carries_every_vlan_gateway_of_the_site() -> None:
    zabita = plan_lab(ESTATE, ["zabita"]).bridges[0]
    assert zabita.addresses == (
        IPv4Interface("10.21.48.1/24"),
        IPv4Interface("10.21.50.1/23"),
        IPv4Interface("10.21.52.1/23"),
        IPv4Interface("10.21.54.1/24"),
    )


def test_machine_gets_its_estate_address_and_vlan_gateway() -> None:
    (ws,) = [m for m in plan_lab(ESTATE, ["zabita"]).machines if m.host == "zabita-ws01"]
    assert ws.attachment.address == IPv4Interface("10.21.50.11/23")
    assert ws.attachment.gateway == IPv4Address("10.21.50.1")
    assert ws.attachment.bridge == "bkbr3"
    assert ws.attachment.netns == netns_name("zabita-ws01") == "bk-zabita-ws01"


def test_only_the_dr_host_may_boot_nested_sandboxes() -> None:
    nested = [m.host for m in plan_lab(ESTATE).machines if m.nested]
    assert nested == ["dr1"]


def test_link_names_fit_the_kernel_limit() -> None:
    assert len(veth_name("a" * 63)) <= 15
    assert veth_name("dc1") != veth_name("dc2")


def test_unknown_site_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownSite, match=r"no site `itfaiye`.*sites: fen-isleri, fkm"):
        plan_lab(ESTATE, ["itfaiye"])


SUPERNET = IPv4Network("10.21.0.0/16")


def test_a_route_of_the_box_inside_the_supernet_is_a_conflict() -> None:
    routes = [
        {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
        {"dst": "192.0.2.0/24", "dev": "eth0"},
        {"dst": "10.21.4.0/22", "dev": "wg0", "gateway": "10.9.9.1"},
        {"dst": "10.0.0.0/8", "dev": "vpn0"},
    ]
    assert conflicting_routes(routes, SUPERNET) == [
        "10.21.4.0/22 dev wg0 via 10.9.9.1",
        "10.0.0.0/8 dev vpn0",
    ]


def test_the_labs_own_routes_are_not_conflicts() -> None:
    routes = [
        {"dst": "10.21.0.0/16", "type": "unreachable", "protocol": "121"},
        {"dst": "10.21.16.0/24", "dev": "bkbr1", "protocol": "kernel"},
        {"dst": "10.21.48.0/24", "dev": "bkbr3", "table": "2121"},
        {"dst": "fe80::/64", "dev": "eth0"},
    ]
    assert conflicting_routes(routes, SUPERNET) == []


def test_nspawn_command_line() -> None:
    spec = MachineSpec(
        name="dr1", image=Path("/img"), home=Path("/lab/dr1"), netns="bk-dr1", nested=True
    )
    argv = nspawn_argv(spec)
    assert argv[:2] == ["systemd-nspawn", "--directory=/lab/dr1/root"]
    assert {
        "--boot",
        "--register=no",
        "--keep-unit",
        "--capability=all",
        "--network-namespace-path=/run/netns/bk-dr1",
    } <= set(argv)
    assert "--drop-capability=CAP_SYS_TIME,CAP_WAKE_ALARM,CAP_SYS_MODULE" in argv
    isolated = nspawn_argv(MachineSpec(name="sandbox", image=Path("/img"), home=Path("/s")))
    assert "--private-network" in isolated and "--capability=all" not in isolated


def test_apt_proxy_listens_only_on_the_given_addresses() -> None:
    text = config_text(
        Path("/cache"),
        Path("/run/acng"),
        (IPv4Address("10.21.17.1"), IPv4Address("10.21.48.1")),
        3152,
    )
    assert "BindAddress: 10.21.17.1 10.21.48.1\n" in text
    assert "Port: 3152\n" in text and "CacheDir: /cache\n" in text


def test_image_hash_follows_the_recipe() -> None:
    assert ImageRecipe().digest() == ImageRecipe().digest()
    assert ImageRecipe(packages=("systemd",)).digest() != ImageRecipe().digest()
    assert "Suites: trixie-security" in sources_text(ImageRecipe())


def test_lab_without_root_says_so_in_one_line_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """geteuid is faked: this box's Python lives under /root, which an unprivileged
    user cannot enter, so a real non-root run cannot start the interpreter here."""
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000)
    for command in (["lab", "up"], ["lab", "down"]):
        result = CliRunner().invoke(
            app, [*command, "--data", str(REPO)] if command[1] == "up" else command
        )
        assert result.exit_code == 2
        assert result.output.strip() == (
            "error: bimkit lab needs root (network namespaces, bridges, mounts)"
        )


def test_lab_without_nspawn_names_the_package_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """`which` is faked for systemd-nspawn only: uninstalling it would break the lab tier."""
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    monkeypatch.setattr(lab.shutil, "which", lambda tool: None if "nspawn" in tool else "/bin/x")
    result = CliRunner().invoke(app, ["lab", "up", "--data", str(REPO)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: bimkit lab needs `systemd-nspawn` (Debian package systemd-container)"
    )
