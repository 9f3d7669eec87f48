"""Switches: applied with pyinfra over real SSH (netmiko), drift, rollback, archive.

These switches are a SIMULATION: no switch firmware runs here. Each switch of
the example estate runs as a simulated Cisco IOS switch on loopback
(bimkit/lab/simulated_switch.py, on fake-switches' SSH server), with the
example estate's data changed so that every switch is `cisco_ios` (the
simulation speaks only IOS; AOS-S and VRP are covered by golden files and
remediation tests in tests/unit/test_switches.py). The switches keep their
configuration, refuse a wrong password, and drop off the network when a
change cuts their management VLAN, until their revert timer takes it back.
The archive is real: a git repository on the lab's DR host.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bimkit.lab.state import LabPaths
from bimkit.lab.switches import device_specs, simulated_switches
from bimkit.model.load import load_estate
from roles.switch.device import DeviceError, Endpoint, connect
from tests.conftest import EstateData, copy_estate_data
from tests.lab.conftest import BIN, DeployTotals, bimkit, run, totals

SWITCHES = ["core-sw1", "fen-sw1", "fkm-sw1", "zabita-sw1"]
MINUTE = 5.0
"""Seconds in a simulated switch's minute: its 2-minute revert timer takes 10 s."""


@pytest.fixture(scope="module")
def switch_secrets() -> dict[str, str]:
    return {
        "BIMKIT_SWITCH_PASSWORD": secrets.token_urlsafe(12),
        "BIMKIT_SNMP_AUTH_PASSWORD": "auth-" + secrets.token_urlsafe(12),
        "BIMKIT_SNMP_PRIV_PASSWORD": "priv-" + secrets.token_urlsafe(12),
    }


@pytest.fixture(scope="module")
def ios_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example estate with every switch on Cisco IOS, which the simulation speaks."""
    root = tmp_path_factory.mktemp("ios-estate")
    copy_estate_data(Path(__file__).resolve().parents[2], root)
    data = EstateData(root)
    for site in ("merkez", "fkm", "fen-isleri", "zabita"):

        def all_ios(document: Any) -> None:
            for host in document["hosts"]:
                if "switch" in host["roles"]:
                    host["os"] = "cisco_ios"

        data.edit(f"sites/{site}.yaml", all_ios)
    return root


@pytest.fixture(scope="module")
def switches(
    first_deploy: DeployTotals, lab: LabPaths, ios_data: Path, switch_secrets: dict[str, str]
) -> Iterator[dict[str, dict[str, Any]]]:
    """One simulated switch per switch of the estate, stopped when the module ends. The
    estate's own deploy comes first: while they run, the lab's inventory holds them, and the
    repository's data names platforms they do not speak."""
    specs = device_specs(load_estate(ios_data), switch_secrets["BIMKIT_SWITCH_PASSWORD"], MINUTE)
    assert sorted(spec["name"] for spec in specs) == SWITCHES
    with simulated_switches(specs, lab) as running:
        yield {spec["name"]: spec for spec in running}


def env_for(data: Path, secrets_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {"BIMKIT_LAB": "1", "BIMKIT_DATA": str(data), **secrets_env, **extra}


def deploy_switches(data: Path, secrets_env: dict[str, str], *options: str,
                    check: bool = True) -> DeployTotals:  # fmt: skip
    limit = [] if "--limit" in options else ["--limit", "switches"]
    result = run(str(BIN / "pyinfra"), "inventory.py", "deploys/switches.py", "-y", *limit,
                 *options, env=env_for(data, secrets_env), check=check)  # fmt: skip
    return totals(result.stdout + result.stderr)


def session(spec: dict[str, Any]) -> Any:
    endpoint = Endpoint(spec["name"], "cisco_ios", "127.0.0.1", spec["port"], spec["username"],
                        spec["password"], MINUTE)  # fmt: skip
    return connect(endpoint)


def on_switch(spec: dict[str, Any], command: str) -> str:
    device = session(spec)
    try:
        shown: str = device.send_command(command)
        return shown
    finally:
        device.disconnect()


def section(config: str, header: str) -> set[str]:
    """The lines under `header` in an IOS configuration, in any order."""
    lines = config.splitlines()
    start = lines.index(header) + 1
    children = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        children.append(line.strip())
    return set(children)


def change_by_hand(spec: dict[str, Any], lines: list[str]) -> None:
    device = session(spec)
    try:
        device.send_config_set(lines)
    finally:
        device.disconnect()


def net(data: Path, secrets_env: dict[str, str], *arguments: str) -> Any:
    return bimkit("net", *arguments, env=env_for(data, secrets_env, COLUMNS="250"), check=False)


@pytest.fixture(scope="module")
def applied(
    switches: dict[str, dict[str, Any]], ios_data: Path, switch_secrets: dict[str, str]
) -> DeployTotals:
    """`--dry` first (prints the remediation, changes nothing), then the first apply."""
    dry = run(str(BIN / "pyinfra"), "inventory.py", "deploys/switches.py", "--dry",
              "--limit", "switches", env=env_for(ios_data, switch_secrets))  # fmt: skip
    assert "interface GigabitEthernet1/0/13" in dry.stderr + dry.stdout
    assert "switchport voice vlan 40" in dry.stderr + dry.stdout
    assert "vlan 40" not in on_switch(switches["zabita-sw1"], "show running-config")
    return deploy_switches(ios_data, switch_secrets)


def test_first_apply_configures_every_switch_and_the_second_changes_nothing(
    applied: DeployTotals, switches: dict[str, dict[str, Any]], ios_data: Path,
    switch_secrets: dict[str, str],
) -> None:  # fmt: skip
    assert applied.changed == len(SWITCHES) and applied.errors == 0, applied.output[-3000:]
    zabita = on_switch(switches["zabita-sw1"], "show running-config")
    assert section(zabita, "interface GigabitEthernet1/0/13") >= {
        "switchport access vlan 30", "switchport voice vlan 40", "spanning-tree portfast",
        "spanning-tree bpduguard enable", "storm-control broadcast level 5.00",
    }  # fmt: skip
    assert "ip dhcp snooping vlan 30,40" in zabita
    assert "key-hash ssh-rsa" in zabita  # the admin's key
    # Saved, and the SNMPv3 user exists (its credentials were sent, never shown).
    assert "switchport voice vlan 40" in on_switch(switches["zabita-sw1"], "show startup-config")
    assert "User name: bimkit-nms" in on_switch(switches["core-sw1"], "show snmp user")
    for value in switch_secrets.values():
        assert value not in applied.output
    again = deploy_switches(ios_data, switch_secrets)
    assert again.changed == 0 and again.errors == 0, again.changed_operations


def test_a_port_changed_by_hand_is_drift_and_the_deploy_restores_it(
    applied: DeployTotals, switches: dict[str, dict[str, Any]], ios_data: Path,
    switch_secrets: dict[str, str],
) -> None:  # fmt: skip
    change_by_hand(switches["zabita-sw1"], ["interface GigabitEthernet1/0/5",
                                            " switchport access vlan 50"])  # fmt: skip
    found = net(ios_data, switch_secrets, "drift")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "zabita-sw1" in found.stdout and "2 lines differ" in found.stdout
    assert "-   switchport access vlan 50" in found.stdout
    assert "+   switchport access vlan 30" in found.stdout
    report = json.loads(net(ios_data, switch_secrets, "drift", "--json").stdout)
    assert [name for name, entry in report["switches"].items() if not entry["ok"]] == ["zabita-sw1"]
    restored = deploy_switches(ios_data, switch_secrets, "--limit", "site_zabita")
    assert restored.changed == 1, restored.output[-2000:]
    clean = net(ios_data, switch_secrets, "drift")
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.count("as planned") == len(SWITCHES)


def test_the_archive_commits_each_run_with_the_diff(
    applied: DeployTotals, switches: dict[str, dict[str, Any]], ios_data: Path,
    switch_secrets: dict[str, str],
) -> None:  # fmt: skip
    """The archive is a git repository on the DR host (the estate's deploy installed git)."""
    first = net(ios_data, switch_secrets, "backup", "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["archived"] == SWITCHES
    change_by_hand(switches["fen-sw1"], ["interface GigabitEthernet1/0/3",
                                         " description yazici"])  # fmt: skip
    second = net(ios_data, switch_secrets, "backup")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "commit " in second.stdout
    changed = {line.split()[1]: line for line in second.stdout.splitlines() if "+1 -0" in line}
    assert list(changed) == ["fen-sw1"], second.stdout
    unchanged = net(ios_data, switch_secrets, "backup")
    assert "nothing changed since the last run" in unchanged.stdout
    history = net(ios_data, switch_secrets, "history", "fen-sw1")
    assert history.returncode == 0, history.stderr
    assert "+ description yazici" in history.stdout
    assert history.stdout.count("bimkit net backup: 4 switches") >= 2
    deploy_switches(ios_data, switch_secrets, "--limit", "site_fen-isleri")


def test_a_change_that_cuts_the_management_vlan_is_rolled_back(
    applied: DeployTotals, switches: dict[str, dict[str, Any]], ios_data: Path,
    switch_secrets: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    """The data moves management to VLAN 11 while the building's router still expects 10:
    the switch's uplink stops carrying VLAN 10, so it drops off the network mid-change."""
    moved = tmp_path / "moved"
    moved.mkdir()
    copy_estate_data(ios_data, moved)
    EstateData(moved).edit("estate.yaml", lambda doc: doc["vlan_plan"][0].update(id=11))
    before = on_switch(switches["zabita-sw1"], "show running-config")
    cut = run(str(BIN / "pyinfra"), "inventory.py", "deploys/switches.py", "-y",
              "--limit", "zabita-sw1", env=env_for(moved, switch_secrets), check=False)  # fmt: skip
    output = cut.stdout + cut.stderr
    assert cut.returncode != 0
    assert "switch `zabita-sw1`: the change cut its management connection" in output, output
    assert "took it back and answers again with its previous configuration" in output
    after = on_switch(switches["zabita-sw1"], "show running-config")
    assert "interface Vlan11" not in after
    assert (
        after.split("Current configuration")[1].split("\n", 1)[1]
        == (before.split("Current configuration")[1].split("\n", 1)[1])
    )


def test_a_wrong_password_fails_each_switch_by_name(
    applied: DeployTotals, ios_data: Path, switch_secrets: dict[str, str]
) -> None:
    wrong = {**switch_secrets, "BIMKIT_SWITCH_PASSWORD": "not-the-password"}
    result = run(str(BIN / "pyinfra"), "inventory.py", "deploys/switches.py", "-y",
                 "--limit", "switches", env=env_for(ios_data, wrong), check=False)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for name in SWITCHES:
        assert f"switch `{name}` (127.0.0.1:" in output, output[-3000:]
    assert "refused user `bimkit`'s password" in output
    assert "not-the-password" not in output


def test_an_unreachable_switch_fails_alone_and_the_others_are_applied(
    applied: DeployTotals, switches: dict[str, dict[str, Any]], ios_data: Path,
    switch_secrets: dict[str, str], lab: LabPaths,
) -> None:  # fmt: skip
    listed = json.loads(lab.simulated_switches.read_text())
    gone = [{**s, "port": 9} if s["name"] == "fkm-sw1" else s for s in listed]  # nothing on 9
    lab.simulated_switches.write_text(json.dumps(gone))
    try:
        change_by_hand(switches["zabita-sw1"], ["interface GigabitEthernet1/0/7",
                                                " switchport access vlan 50"])  # fmt: skip
        result = deploy_switches(ios_data, switch_secrets, check=False)
    finally:
        lab.simulated_switches.write_text(json.dumps(listed))
    assert "switch `fkm-sw1` (127.0.0.1:9): no SSH answer" in result.output, result.output[-3000:]
    assert result.changed == 1  # zabita-sw1 put back
    assert net(ios_data, switch_secrets, "drift", "zabita-sw1").returncode == 0


def test_a_switch_is_trusted_only_by_its_pinned_host_key(
    switches: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Production pins each switch's key (`bimkit hostkeys scan`); the lab does not."""
    spec = switches["zabita-sw1"]
    pinned = tmp_path / "known_hosts"
    pinned.write_text("")
    endpoint = Endpoint(spec["name"], "cisco_ios", "127.0.0.1", spec["port"], spec["username"],
                        spec["password"], MINUTE, known_hosts=str(pinned))  # fmt: skip
    with pytest.raises(DeviceError, match=r"`zabita-sw1` .*: its SSH host key is not pinned"):
        connect(endpoint)
    offered = run("ssh-keyscan", "-p", str(spec["port"]), "-t", "rsa", "127.0.0.1").stdout
    pinned.write_text(offered)
    connect(endpoint).disconnect()
