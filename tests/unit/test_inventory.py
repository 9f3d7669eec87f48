"""pyinfra inventory: groups by role and site; broken data stops pyinfra before connecting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from tests.conftest import REPO, EstateData, run_tool
from tests.unit.test_validation import setter

PYINFRA = str(Path(sys.executable).with_name("pyinfra"))


def names(entries: list[tuple[str, dict]]) -> list[str]:
    return [name for name, _ in entries]


def test_role_and_site_groups_of_the_example_estate() -> None:
    groups = plan_inventory(load_estate(REPO))
    assert names(groups["domain_controllers"]) == ["dc1", "dc2"]
    assert names(groups["additional_dcs"]) == ["dc2"]
    assert names(groups["pbx"]) == ["pbx1"]
    assert names(groups["file_servers"]) == ["fs1"]
    assert names(groups["log_servers"]) == ["log1"]
    assert names(groups["backup_servers"]) == ["dr1"]
    assert names(groups["dr_hosts"]) == ["dr1"]
    # pyinfra reaches switches with bimkit's netmiko connector (roles/switch/connector.py).
    switches = ["core-sw1", "fkm-sw1", "zabita-sw1", "fen-sw1"]
    assert names(groups["switches"]) == [f"@netmiko/{name}" for name in switches]
    assert "fen-ws03" in names(groups["workstations"])
    assert names(groups["windows"]) == ["fen-ws03"]
    assert "fen-ws03" not in names(groups["linux"])
    assert names(groups["site_zabita"]) == ["@netmiko/zabita-sw1", "zabita-ws01", "zabita-ws02"]
    assert set(groups) >= {"site_merkez", "site_fkm", "site_fen-isleri"}


def test_host_data_carries_what_roles_need() -> None:
    groups = plan_inventory(load_estate(REPO))
    dc1 = dict(groups["domain_controllers"])["dc1"]
    assert dc1["ssh_hostname"] == "10.21.17.10"
    assert dc1["dc_role"] == "primary"
    assert dc1["realm"] == "ad.kayapinar.bel.tr"
    assert dc1["protected_services"] == ["active-directory"]
    assert dc1["dns_servers"] == ["10.21.17.10", "10.21.33.10"]
    assert dc1["syslog_servers"] == ["10.21.17.12"]
    assert dict(groups["additional_dcs"])["dc2"]["dc_role"] == "additional"
    switch = dict(groups["switches"])["@netmiko/zabita-sw1"]
    assert switch["os"] == "cisco_ios" and "ssh_hostname" not in switch
    assert switch["netmiko_device_type"] == "cisco_ios"
    assert switch["netmiko_host"] == "10.21.48.2"
    assert switch["switch"]["management_vlan"] == 10


def test_host_data_is_plain_json_without_secret_looking_keys() -> None:
    groups = plan_inventory(load_estate(REPO))
    for entries in groups.values():
        for _, data in entries:
            json.dumps(data)
            assert not [key for key in data if "pass" in key or "secret" in key or "key" in key]


def run_pyinfra(data_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_tool([PYINFRA, "inventory.py", *args], {**os.environ, "BIMKIT_DATA": str(data_root)})


def test_pyinfra_reads_the_groups_from_inventory_py(estate_data: EstateData) -> None:
    result = run_pyinfra(estate_data.root, "debug-inventory")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "[dc1]" in output and "site_merkez" in output and "domain_controllers" in output


def test_broken_data_stops_pyinfra_before_any_connection(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("vlans", 2, "id", value=30))
    estate_data.edit("sites/merkez.yaml", setter("hosts", 2, "address", value=10))
    result = run_pyinfra(estate_data.root, "exec", "--", "true")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "sites/zabita.yaml: vlans[2].id: VLAN 30 is used twice" in output
    assert "sites/merkez.yaml: hosts[2].address: address 10.21.17.10 is used twice" in output
    assert "Connecting" not in output and "Connected" not in output
