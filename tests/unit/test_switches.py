"""Switches: the vendor-neutral plan, each platform's golden file, hier_config remediation, rules.

The AOS-S and VRP running configurations in tests/unit/data/switches are laid
out as those platforms print them (their manuals' examples: a factory
configuration with bimkit's account and management address set by hand).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bimkit.model.load import load_estate
from bimkit.model.schema import PortUse
from bimkit.model.switching import switch_plan
from roles.switch.plan import (
    credential_lines,
    drift,
    intended_config,
    key_hash,
    port_ranges,
    remediation,
    snmp_user_missing,
)
from tests.conftest import REPO, EstateData, assert_golden
from tests.unit.test_validation import assert_reported, problems_of

DATA = REPO / "tests" / "unit" / "data"
SWITCHES = {"zabita-sw1": "cisco_ios", "fkm-sw1": "aruba_aoss", "fen-sw1": "huawei_vrp"}
SITE_OF = {"zabita-sw1": "zabita", "fkm-sw1": "fkm", "fen-sw1": "fen-isleri", "core-sw1": "merkez"}


def plan_of(name: str, root: Path = REPO) -> dict[str, Any]:
    estate = load_estate(root)
    plan = dataclasses.asdict(switch_plan(estate, estate.hosts[name]))
    loaded: dict[str, Any] = json.loads(json.dumps(plan, default=str))
    return loaded


@pytest.mark.parametrize("name", SWITCHES)
def test_each_platform_renders_its_golden_file(name: str) -> None:
    assert_golden(DATA / "golden" / f"switch-{SWITCHES[name]}.cfg", intended_config(plan_of(name)))


@pytest.mark.parametrize("name", [*SWITCHES, "core-sw1"])
def test_a_switch_as_planned_needs_no_change_and_shows_no_drift(name: str) -> None:
    plan = plan_of(name)
    assert remediation(plan, intended_config(plan)) == []
    assert drift(plan, intended_config(plan)) == []


def test_the_plan_reads_each_port_from_its_use() -> None:
    ports = {port["number"]: port for port in plan_of("core-sw1")["ports"]}
    assert ports[1]["access_vlan"] == 20 and not ports[1]["poe"]  # server
    assert ports[33]["access_vlan"] == 30 and ports[33]["voice_vlan"] == 40 and ports[33]["poe"]
    assert ports[41]["access_vlan"] == 50 and ports[41]["poe"]  # camera
    ap = ports[45]
    assert ap["trunk"] and ap["access_vlan"] == 10 and ap["tagged_vlans"] == [10, 30, 60]
    uplink = ports[48]
    assert uplink["trunk"] and uplink["dhcp_trusted"] and not uplink["edge"]
    assert uplink["tagged_vlans"] == [10, 20, 30, 40, 50, 60]
    assert uplink["description"] == "wan router"  # ASCII on every CLI
    assert all(port["edge"] for number, port in ports.items() if number != 48)
    assert 47 not in ports  # not in the port plan: bimkit leaves it alone


def test_a_trunk_with_its_own_vlan_list_carries_only_those() -> None:
    uplink = next(p for p in plan_of("fen-sw1")["ports"] if p["use"] == PortUse.uplink)
    assert uplink["tagged_vlans"] == [10, 30, 40]
    assert "port trunk allow-pass vlan 10 30 40" in intended_config(plan_of("fen-sw1"))


def test_a_port_changed_by_hand_is_drift_and_remediation_puts_it_back() -> None:
    plan = plan_of("zabita-sw1")
    running = intended_config(plan).replace(
        "interface GigabitEthernet1/0/5\n switchport access vlan 30",
        "interface GigabitEthernet1/0/5\n switchport access vlan 50",
    )
    assert drift(plan, running) == [
        "+ interface GigabitEthernet1/0/5",
        "+   switchport access vlan 30",
        "- interface GigabitEthernet1/0/5",
        "-   switchport access vlan 50",
    ]
    assert remediation(plan, running) == [
        "interface GigabitEthernet1/0/5",
        "  no switchport access vlan 50",
        "  switchport access vlan 30",
    ]


def test_what_bimkit_does_not_own_is_never_touched() -> None:
    plan = plan_of("zabita-sw1")
    running = intended_config(plan).replace(
        "ip ssh pubkey-chain\n", "ip ssh pubkey-chain\n username bimkit\n  key-hash ssh-rsa 00FF\n"
    ) + (
        "username bimkit privilege 15 secret 9 $9$abc\n"
        "interface GigabitEthernet1/0/23\n description printer by hand\n"
        "line vty 0 15\n transport input ssh\n"
    )
    assert remediation(plan, running) == []


def test_lines_outside_the_plan_inside_what_bimkit_owns_are_removed() -> None:
    plan = plan_of("zabita-sw1")
    running = intended_config(plan) + "ntp server 192.0.2.9\nvlan 99\n name old\nvlan 1\n"
    assert remediation(plan, running) == ["no ntp server 192.0.2.9", "no vlan 99"]


def test_aoss_factory_switch_gets_its_vlans_ports_and_services() -> None:
    plan = plan_of("fkm-sw1")
    commands = remediation(plan, (DATA / "switches" / "aruba_aoss-factory.cfg").read_text())
    assert commands[:2] == ['no hostname "HP-2530-48G"', 'hostname "fkm-sw1"']
    text = "\n".join(commands)
    # hier_config's AOS-S driver turns VLAN membership into each port's own lines.
    assert 'interface 1\n  name "dr sunuculari"\n  no power-over-ethernet\n' in text
    assert "  untagged vlan 20" in text and "interface 24\n" in text
    assert "  tagged vlan 20" in text
    assert "spanning-tree 1-8 bpdu-protection" in commands
    assert "ntp server 10.21.17.10" in commands and "logging 10.21.17.12" in commands
    # Not bimkit's: VLAN 1, the community, oobm, the manager password.
    assert not [c for c in commands if re.match(r"no (vlan 1$|snmp-server|oobm|password)", c)]
    assert remediation(plan, intended_config(plan)) == []


def test_vrp_factory_switch_keeps_the_login_account_and_gets_the_admins_key() -> None:
    plan = plan_of("fen-sw1")
    commands = remediation(plan, (DATA / "switches" / "huawei_vrp-factory.cfg").read_text())
    assert "sysname fen-sw1" in commands
    assert "interface GigabitEthernet0/0/17" in commands
    assert "  voice-vlan 40 enable" in commands
    assert "ssh user gulsen.yildirim assign rsa-key gulsen.yildirim-1" in commands
    assert not [c for c in commands if "bimkit" in c and "bimkit-" not in c]
    assert not [c for c in commands if c.startswith("undo") and "sysname" not in c]


def test_ios_key_hash_is_the_md5_of_the_key_blob_as_ios_shows_it() -> None:
    key = plan_of("zabita-sw1")["admins"]
    keyed = next(admin for admin in key if admin["ssh_keys"])
    public_key = keyed["ssh_keys"][0]
    blob = base64.b64decode(public_key.split()[1])
    assert key_hash(public_key) == hashlib.md5(blob).hexdigest().upper()
    assert f"key-hash ssh-rsa {key_hash(public_key)}" in intended_config(plan_of("zabita-sw1"))


@pytest.mark.parametrize("name", SWITCHES)
def test_snmp_credentials_never_reach_the_intended_configuration(name: str) -> None:
    plan = plan_of(name)
    lines = credential_lines(plan, "auth-Secret-1", "priv-Secret-2")
    assert len(lines) == 1 and "auth-Secret-1" in lines[0] and "priv-Secret-2" in lines[0]
    assert "Secret" not in intended_config(plan)
    assert snmp_user_missing(plan, "")
    assert not snmp_user_missing(plan, "User name: bimkit-nms\nEngine ID: 80000009")


def test_port_ranges_are_written_as_aoss_writes_them() -> None:
    assert port_ranges([5, 1, 2, 3, 8, 9]) == "1-3,5,8-9"
    assert port_ranges([]) == ""


# --- rules -------------------------------------------------------------------------------


def switch_at(data: EstateData, name: str) -> tuple[str, int]:
    site = f"sites/{SITE_OF[name]}.yaml"
    hosts = data.read(site)["hosts"]
    return site, next(i for i, host in enumerate(hosts) if host["name"] == name)


def edit_switch(data: EstateData, name: str, change: Any) -> tuple[str, str]:
    site, index = switch_at(data, name)
    data.edit(site, lambda doc: change(doc["hosts"][index]))
    return site, f"hosts[{index}]"


def test_a_trunk_missing_a_vlan_used_on_the_switch_is_an_error(estate_data: EstateData) -> None:
    def trunk_without_voice(host: Any) -> None:
        host["ports"][-1].update(vlans=["management", "data"])

    site, at = edit_switch(estate_data, "fen-sw1", trunk_without_voice)
    assert_reported(problems_of(estate_data.root), site, f"{at}.ports[3].vlans",
                    r"`fen-sw1`: uplink ports 24-24 miss VLAN voice \(40\)")  # fmt: skip


def test_phone_ports_need_a_voice_vlan_at_the_site(estate_data: EstateData) -> None:
    site, at = edit_switch(estate_data, "fkm-sw1",
                           lambda h: h["ports"].insert(1, {"first": 9, "last": 10,
                                                           "use": "phone"}))  # fmt: skip
    problems = problems_of(estate_data.root)
    assert_reported(problems, site, f"{at}.ports[1]",
                    r"phone ports need the data VLAN, which site `fkm` does not have")  # fmt: skip
    assert_reported(problems, site, f"{at}.ports[1]", r"need the voice VLAN")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda h: h["ports"][0].update(vlans=["data"]), "ports[0]", r"only uplinks take `vlans`"),
        (lambda h: h["ports"][-1].update(poe=True), "ports[3]", r"an uplink does not give PoE"),
        (lambda h: h["ports"].pop(), "ports", r"`fen-sw1` has no uplink port"),
        (lambda h: h.update(vlan="data", address=20), "vlan", r"must sit in the management VLAN"),
        (lambda h: h["ports"][-1].update(vlans=["management", "data", "voice", "guests"]),
         "ports[3]", r"carries VLAN guests, which site `fen-isleri` does not have"),
        (lambda h: h.update(os="hp_comware"), "os",
         r"no configuration for `hp_comware`; it configures cisco_ios, aruba_aoss, huawei_vrp"),
        (lambda h: h["ports"][-1].update(first=60, last=60), "ports[3]",
         r"port 60 is past the last port \(52\) of a Huawei VRP access switch"),
    ],
)  # fmt: skip
def test_port_plan_rules(estate_data: EstateData, change: Any, field: str, message: str) -> None:
    site, at = edit_switch(estate_data, "fen-sw1", change)
    assert_reported(problems_of(estate_data.root), site, f"{at}.{field}", message)


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq4Jm0cUhbA2dWNg5p0yJg6vE3ymS4x2n9CqGQ5Zx7r a@b"
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBxZ7m0q5QJ"
    "T1rI9e4m7m1g2y5W0nYVq1xkqK9e3F0mC6Zx7r1nq2y5W0nYVq1xkqK9e3F0mC6Zx7r1nq2y5W0nYVq1 a@b"
)


def give_key(data: EstateData, key: str) -> None:
    def change(document: Any) -> None:
        person = next(p for p in document["people"] if p["id"] == "1003")
        person["ssh_keys"] = [key]

    data.edit("directory/people.yaml", change)


def test_ios_takes_only_rsa_keys_for_its_admins(estate_data: EstateData) -> None:
    give_key(estate_data, ED25519)
    assert_reported(problems_of(estate_data.root), "directory/people.yaml",
                    "people[2].ssh_keys",
                    r"`zabita-sw1`: Cisco IOS takes ssh-rsa keys, not ssh-ed25519")  # fmt: skip


def test_vrp_refuses_an_ecdsa_key_that_aoss_takes(estate_data: EstateData) -> None:
    give_key(estate_data, ECDSA)
    problems = problems_of(estate_data.root)
    assert_reported(problems, "directory/people.yaml", "people[2].ssh_keys",
                    r"switch `fen-sw1`: Huawei VRP takes ssh-rsa keys, not ecdsa")  # fmt: skip
    assert not [p for p in problems if "fkm-sw1" in p]


def test_aoss_limits_storms_in_whole_percent(estate_data: EstateData) -> None:
    estate_data.edit("estate.yaml",
                     lambda doc: doc.update(switching={"storm_control_percent": 2.5}))  # fmt: skip
    problems = problems_of(estate_data.root)
    assert_reported(problems, "estate.yaml", "switching.storm_control_percent",
                    r"`fkm-sw1`: .* AOS-S limits storms in whole percent")  # fmt: skip
    assert not [p for p in problems if "zabita-sw1" in p]  # IOS takes 2.50
