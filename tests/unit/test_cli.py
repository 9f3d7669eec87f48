"""The `bimkit` command as an admin runs it: real processes, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bimkit.model.load import load_estate
from bimkit.secrets import required_secrets
from tests.conftest import REPO, EstateData, run_tool
from tests.unit.test_inventory import run_pyinfra
from tests.unit.test_validation import setter

BIMKIT = str(Path(sys.executable).with_name("bimkit"))


def bimkit(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BIMKIT_")}
    environment.update({"COLUMNS": "200", **(env or {})})
    return run_tool([BIMKIT, *args], environment, cwd=cwd)


def test_validate_summarises_a_valid_estate() -> None:
    result = bimkit("validate")
    assert result.returncode == 0, result.stderr
    assert "Kayapınar Belediyesi: estate is valid" in result.stdout
    assert "10.21.48.0/20" in result.stdout and "zabita" in result.stdout
    assert "4 sites, 17 hosts, 40 people (39 active, 1 inactive)" in result.stdout


def test_validate_lists_every_problem_and_exits_1(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("vlans", 2, "id", value=30))
    estate_data.edit("directory/people.yaml", setter("people", 4, "extension", value=2103))
    result = bimkit("validate", "--data", str(estate_data.root))
    assert result.returncode == 1
    assert "2 problems in the estate data" in result.stderr
    assert "sites/zabita.yaml: vlans[2].id: VLAN 30 is used twice" in result.stderr
    assert (
        "directory/people.yaml: people[4].extension: extension 2103 is used twice" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_validate_finds_the_data_root_from_a_subfolder() -> None:
    assert bimkit("validate", cwd=REPO / "sites").returncode == 0


def test_validate_outside_an_estate_says_where_it_looked(tmp_path: Path) -> None:
    result = bimkit("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "estate.yaml: not found in" in result.stderr


def test_plan_shows_vlans_subnets_gateways_and_hosts() -> None:
    result = bimkit("plan", "--site", "zabita")
    assert result.returncode == 0, result.stderr
    for expected in (
        "10.21.48.0/20",
        "voice",
        "10.21.52.0/23",
        "10.21.50.1",
        "10.21.50.11  zabita-ws01",
    ):
        assert expected in result.stdout
    assert "merkez" not in result.stdout


def test_plan_of_an_unknown_site_names_the_known_ones() -> None:
    result = bimkit("plan", "--site", "itfaiye")
    assert result.returncode == 1
    assert "no site `itfaiye`; sites: fen-isleri, fkm, merkez, zabita" in result.stderr


def test_usernames_record_writes_new_ones_and_keeps_leavers(estate_data: EstateData) -> None:
    estate_data.edit(
        "directory/usernames.yaml", lambda d: d["usernames"].update({"777": "eski.kisi"})
    )
    estate_data.edit(
        "directory/people.yaml",
        lambda d: d["people"].append(
            {"id": "2001", "given_name": "Mehmet", "family_name": "Yılmaz", "department": "zabita"}
        ),
    )
    listed = bimkit("usernames", "--data", str(estate_data.root))
    assert "mehmet.yilmaz3" in listed.stdout and "1 new" in listed.stdout
    assert "2001" not in estate_data.read("directory/usernames.yaml")["usernames"]

    assert bimkit("usernames", "--record", "--data", str(estate_data.root)).returncode == 0
    recorded = estate_data.read("directory/usernames.yaml")["usernames"]
    assert recorded["2001"] == "mehmet.yilmaz3"
    assert recorded["777"] == "eski.kisi"
    assert recorded["1202"] == "mehmet.yilmaz2"
    assert load_estate(estate_data.root).new_usernames == {}


def test_usernames_rename_retires_the_old_name_and_the_plan_renames_the_account(
    estate_data: EstateData,
) -> None:
    result = bimkit("usernames", "rename", "1005", "ayse.yilmaz", "--data", str(estate_data.root))
    assert result.returncode == 0, result.stderr
    assert "`ayse.cicek` -> `ayse.yilmaz`" in result.stdout
    registry = estate_data.read("directory/usernames.yaml")
    assert registry["usernames"]["1005"] == "ayse.yilmaz"
    assert registry["retired"] == {"ayse.cicek": "1005"}
    estate = load_estate(estate_data.root)
    (ayse,) = [m for m in estate.members if m.person.id == "1005"]
    assert (ayse.username, ayse.email) == ("ayse.yilmaz", "ayse.yilmaz@kayapinar.bel.tr")
    # A newcomer named like her never gets the retired name.
    estate_data.edit(
        "directory/people.yaml",
        lambda d: d["people"].append(
            {"id": "2001", "given_name": "Ayşe", "family_name": "Çiçek", "department": "zabita"}
        ),
    )
    assert load_estate(estate_data.root).new_usernames == {"2001": "ayse.cicek2"}


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        (["1005", "mehmet.yilmaz"], "`mehmet.yilmaz` belongs to 1004"),
        (["1005", "Ayşe.Yılmaz"], "`Ayşe.Yılmaz` is not a username"),
        (["9999", "yeni.kisi"], "no person with id 9999 in directory/people.yaml"),
        (["1005", "ayse.cicek"], "1005 is already `ayse.cicek`"),
    ],
)
def test_usernames_rename_refuses_with_the_rule_and_changes_nothing(
    estate_data: EstateData, arguments: list[str], refusal: str
) -> None:
    before = (estate_data.root / "directory/usernames.yaml").read_text()
    result = bimkit("usernames", "rename", *arguments, "--data", str(estate_data.root))
    assert result.returncode == 1
    assert refusal in result.stderr
    assert (estate_data.root / "directory/usernames.yaml").read_text() == before


def test_a_retired_username_is_never_handed_out_again(estate_data: EstateData) -> None:
    root = str(estate_data.root)
    assert bimkit("usernames", "rename", "1005", "ayse.yilmaz", "--data", root).returncode == 0
    result = bimkit("usernames", "rename", "1004", "ayse.cicek", "--data", root)
    assert result.returncode == 1
    assert "`ayse.cicek` was retired (id 1005)" in result.stderr


def test_data_may_be_given_before_the_command(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("vlans", 2, "id", value=30))
    result = bimkit("--data", str(estate_data.root), "validate")
    assert result.returncode == 1
    assert "sites/zabita.yaml: vlans[2].id: VLAN 30 is used twice" in result.stderr


def test_secrets_check_lists_missing_names_and_exits_1(tmp_path: Path) -> None:
    result = bimkit("secrets", "check", env={"BIMKIT_SECRETS_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "ad_admin_password" in result.stdout and "MISSING" in result.stdout
    assert "19 of 19 secrets missing" in result.stdout


def all_secrets(directory: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every secret the example estate needs, half as files, half in the environment.

    Returns the environment to run with and the values by name.
    """
    env = {"BIMKIT_SECRETS_DIR": str(directory)}
    values = {}
    for index, spec in enumerate(required_secrets(load_estate(REPO))):
        value = f"S3cr3t-{index:02d}-{spec.name[::-1]}-Şifre"
        values[spec.name] = value
        if index % 2:
            env[spec.env_var] = value
        else:
            path = directory / spec.name
            path.write_text(value, encoding="utf-8")
            path.chmod(0o600)
    return env, values


def test_secrets_check_passes_when_all_are_set(tmp_path: Path) -> None:
    env, _ = all_secrets(tmp_path)
    result = bimkit("secrets", "check", env=env)
    assert result.returncode == 0, result.stdout
    assert "all 19 secrets set" in result.stdout
    assert "environment (BIMKIT_RESTIC_PASSWORD_DC1)" in result.stdout


def test_secrets_check_refuses_a_readable_file(tmp_path: Path) -> None:
    (tmp_path / "ad_admin_password").write_text("x")
    (tmp_path / "ad_admin_password").chmod(0o644)
    result = bimkit("secrets", "check", env={"BIMKIT_SECRETS_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"{tmp_path}/ad_admin_password (mode 0644)" in result.stderr
    assert "chmod 600" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["validate"], ["plan"], ["usernames"], ["secrets", "check"], ["--help"]],
    ids=lambda c: " ".join(c),
)
def test_no_secret_value_ever_appears_in_output(tmp_path: Path, command: list[str]) -> None:
    env, secrets = all_secrets(tmp_path)
    result = bimkit(*command, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    leaked = [name for name, value in secrets.items() if value in output]
    assert not leaked, f"`bimkit {' '.join(command)}` printed the value of {leaked}"


def test_no_secret_value_reaches_pyinfra_inventory(
    tmp_path: Path, estate_data: EstateData, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, secrets = all_secrets(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run_pyinfra(estate_data.root, "debug-inventory")
    assert result.returncode == 0, result.stderr
    leaked = [name for name, value in secrets.items() if value in result.stdout + result.stderr]
    assert not leaked


def test_a_secret_written_into_the_data_is_refused_without_echoing_it(
    estate_data: EstateData,
) -> None:
    estate_data.edit("estate.yaml", setter("ad_admin_password", value="Diyarbakir-2026!"))
    estate_data.edit("sites/zabita.yaml", setter("hosts", 1, "password", value="Zabita-2026!"))
    result = bimkit("validate", "--data", str(estate_data.root))
    assert result.returncode == 1
    assert "estate.yaml: ad_admin_password: unknown field" in result.stderr
    assert "sites/zabita.yaml: hosts[1].password: unknown field" in result.stderr
    assert "Diyarbakir-2026!" not in result.stderr + result.stdout
    assert "Zabita-2026!" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ["dr", "status", "dc9"],
        ["dr", "snapshots", "dc9"],
        ["dr", "check", "dc1", "dc9"],
        ["dr", "forget", "dc9"],
        ["dr", "backup", "--host", "dc9"],
    ],
)
def test_an_unknown_host_is_refused_before_any_connection(
    arguments: list[str], tmp_path: Path
) -> None:
    """Refused before the inventory is even built; the empty lab folder makes sure that a
    regression could reach no address (the lab inventory would say the lab is down)."""
    result = bimkit(*arguments, env={"BIMKIT_LAB": "1", "BIMKIT_LAB_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert (
        "dr: dc9 has no repository at the DR site; protected hosts: dc1, dr1, fs1, log1, pbx1"
        in (result.stderr)
    )
    assert "cannot be reached" not in result.stderr


def test_the_backup_summary_shows_the_agents_own_error_not_systemds() -> None:
    from bimkit.cli.dr import last_message
    from bimkit.remote import CommandResult

    failed = CommandResult(
        False,
        "bimkit-backup: logs on log1: restic backup failed: all source directories/files do "
        "not exist\n",
        "Job for bimkit-backup@logs.service failed because the control process exited.\n"
        'See "systemctl status bimkit-backup@logs.service" and "journalctl -xeu ...".\n',
    )
    assert last_message(failed).endswith("all source directories/files do not exist")
    assert last_message(CommandResult(False, "", "ssh: connect refused\n")) == (
        "ssh: connect refused"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["logs", "verify", "--from", "2026-13-01"], "logs: --from '2026-13-01' is not a day"),
        (["logs", "verify", "--to", "dün"], "logs: --to 'dün' is not a day"),
        (["logs", "search", "--ip", "10.21.51.7", "--at", "öğlen"], "is not an ISO 8601 time"),
        (["logs", "status"], "BIMKIT_LAB is set but the lab is down"),
    ],
)
def test_logs_refuses_bad_input_before_any_connection(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    result = bimkit(*arguments, env={"BIMKIT_LAB": "1", "BIMKIT_LAB_DIR": str(tmp_path)})
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_logs_without_a_log_server_says_so(estate_data: EstateData) -> None:
    def drop_log_server(document: Any) -> None:
        document["hosts"] = [h for h in document["hosts"] if h["name"] != "log1"]

    estate_data.edit("sites/merkez.yaml", drop_log_server)
    result = bimkit("logs", "status", "--data", str(estate_data.root))
    assert result.returncode == 1
    assert "logs: no host of the estate has the log_server role" in result.stderr


def test_pbx_status_refuses_bad_input_before_any_connection(tmp_path: Path) -> None:
    result = bimkit("pbx", "status", env={"BIMKIT_LAB": "1", "BIMKIT_LAB_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "BIMKIT_LAB is set but the lab is down" in result.stderr
