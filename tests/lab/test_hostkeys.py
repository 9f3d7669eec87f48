"""Pinned SSH host keys against real machines: recorded once, checked on every connection.

The lab's machines answer at the estate's own addresses, so a copy of the
data without BIMKIT_LAB is the production inventory pointed at them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bimkit.hostkeys import parse_known_hosts
from bimkit.lab.state import LabPaths
from bimkit.sites import copy_estate_data
from tests.conftest import REPO
from tests.lab.conftest import BIN, bimkit, run

SSH_HOSTS = ("dc1", "fs1", "dr1")


def production(data: Path) -> dict[str, str]:
    """The environment of an admin's machine: not the lab's inventory, not its secrets."""
    return {"BIMKIT_LAB": "", "BIMKIT_DATA": str(data)}


@pytest.fixture(scope="module")
def pinned(lab: LabPaths, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("estate")
    copy_estate_data(REPO, data)
    scanned = bimkit("hostkeys", "scan", *SSH_HOSTS, env=production(data))
    assert scanned.stdout.count("recorded now") == 3, scanned.stdout
    return data


def pyinfra_exec(data: Path, lab: LabPaths, host: str) -> tuple[int, str]:
    result = run(
        str(BIN / "pyinfra"), "inventory.py", "exec", "-y", "--limit", host,
        "--key", str(lab.ssh_key), "--", "hostname",
        env=production(data), check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_scan_records_keys_that_match_the_machines(pinned: Path, lab: LabPaths) -> None:
    recorded = (pinned / "known_hosts").read_text()
    for host in SSH_HOSTS:
        assert f"\n{host},10.21." in recorded
    lab_keys = lab.known_hosts.read_text()
    key = next(line for line in recorded.splitlines() if line.startswith("dc1,")).split()[2]
    assert key in lab_keys, "the key of the machine itself, as the lab pinned it at boot"
    checked = bimkit("hostkeys", "check", *SSH_HOSTS, env=production(pinned))
    assert checked.stdout.count("OK") == 3


def test_a_deploy_reaches_a_host_whose_key_is_pinned(pinned: Path, lab: LabPaths) -> None:
    code, output = pyinfra_exec(pinned, lab, "dc1")
    assert code == 0, output[-2000:]
    assert re.search(r"\[dc1\]\s+dc1\n", output), output[-2000:]


def test_a_changed_key_stops_the_deploy_naming_the_host(pinned: Path, lab: LabPaths) -> None:
    known_hosts = pinned / "known_hosts"
    original = known_hosts.read_text()
    other = next(line for line in original.splitlines() if line.startswith("fs1,")).split()[1:]
    forged = [
        f"{line.split()[0]} {' '.join(other)}" if line.startswith("dc1,") else line
        for line in original.splitlines()
    ]
    known_hosts.write_text("\n".join(forged) + "\n")
    try:
        code, output = pyinfra_exec(pinned, lab, "dc1")
        assert code != 0
        assert "[dc1]" in output and "host key" in output.lower(), output[-2000:]
        assert "Host key for 10.21.17.10 does not match" in output
        checked = bimkit("hostkeys", "check", "dc1", env=production(pinned), check=False)
        assert checked.returncode == 1 and "CHANGED" in checked.stdout
        rescan = bimkit("hostkeys", "scan", "dc1", env=production(pinned), check=False)
        assert rescan.returncode == 1
        assert "dc1: its key CHANGED and was not recorded" in rescan.stderr
        assert parse_known_hosts(known_hosts.read_text()) == parse_known_hosts("\n".join(forged)), (
            "a rescan trusts no changed key"
        )
        bimkit("hostkeys", "scan", "dc1", "--replace", "dc1", env=production(pinned))
        assert pyinfra_exec(pinned, lab, "dc1")[0] == 0
    finally:
        known_hosts.write_text(original)


def test_an_unknown_host_is_refused_before_any_connection(pinned: Path) -> None:
    result = bimkit("hostkeys", "check", "dc9", env=production(pinned), check=False)
    assert result.returncode == 1
    assert "dc9 is not an SSH host of the estate" in result.stderr


def test_the_production_inventory_names_unpinned_hosts(pinned: Path) -> None:
    result = run(
        str(BIN / "pyinfra"), "inventory.py", "debug-inventory",
        env=production(pinned), check=False,
    )  # fmt: skip
    assert "no pinned SSH host key for " in result.stderr
    assert "`bimkit hostkeys scan " in result.stderr and "pbx1" in result.stderr
    assert os.path.exists(pinned / "known_hosts")
