"""Who may sign in where (bimkit.sign_in), and how an admin's key reaches sshd."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from bimkit.model.estate import Estate
from bimkit.model.load import load_estate
from bimkit.model.schema import SignIn, SignInRule
from bimkit.sign_in import sign_in_groups
from roles.templates import render
from tests.conftest import REPO, EstateData
from tests.unit.test_validation import assert_reported, problems_of, setter

ESTATE = load_estate(REPO)


def with_rules(**rules: object) -> Estate:
    sign_in = SignIn(**rules)  # type: ignore[arg-type]
    workstations = ESTATE.config.workstations.model_copy(update={"sign_in": sign_in})
    config = ESTATE.config.model_copy(update={"workstations": workstations})
    return dataclasses.replace(ESTATE, config=config)


def test_the_staff_housed_at_a_site_and_the_admins_sign_in_there() -> None:
    assert sign_in_groups(ESTATE, ESTATE.hosts["zabita-ws01"]) == ["bim-admins", "zabita"]
    assert sign_in_groups(ESTATE, ESTATE.hosts["fen-ws01"]) == ["bim-admins", "fen-isleri"]


def test_a_site_rule_adds_and_a_host_rule_narrows_but_the_admins_stay() -> None:
    estate = with_rules(sites={"zabita": SignInRule(add=["yardim-masasi"])},
                        hosts={"zabita-ws02": SignInRule(only=["zabita-yonetim"])})  # fmt: skip
    assert sign_in_groups(estate, estate.hosts["zabita-ws01"]) == [
        "bim-admins", "yardim-masasi", "zabita"]  # fmt: skip
    assert sign_in_groups(estate, estate.hosts["zabita-ws02"]) == [
        "bim-admins", "zabita-yonetim"]  # fmt: skip


def test_rules_name_real_sites_workstations_and_groups(estate_data: EstateData) -> None:
    estate_data.edit("estate.yaml", setter("workstations", value={"sign_in": {
        "sites": {"zabta": {"add": ["zabita"]}},
        "hosts": {"dc1": {"only": ["fen"]}}}}))  # fmt: skip
    problems = problems_of(estate_data.root)
    assert_reported(problems, "estate.yaml", "workstations.sign_in.sites.zabta",
                    r"`zabta` is not a site")  # fmt: skip
    assert_reported(problems, "estate.yaml", "workstations.sign_in.hosts.dc1",
                    r"`dc1` is not a workstation")  # fmt: skip
    assert_reported(problems, "estate.yaml", r"workstations.sign_in.hosts.dc1.only[0]",
                    r"`fen` is no group or department")  # fmt: skip


def test_a_site_houses_real_departments(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("departments", value=["zabta"]))
    assert_reported(problems_of(estate_data.root), "sites/zabita.yaml", "departments[0]",
                    r"`zabta` is not a department")  # fmt: skip


def test_the_key_command_prints_only_that_admins_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("gulsen.yildirim ssh-ed25519 AAAAC3Nz first\n"
                    "gulsen.yildirim ssh-rsa AAAAB3Nz second\n"
                    "sukru.caglayan ssh-ed25519 AAAAC3Nz other\n")  # fmt: skip
    script = tmp_path / "command"
    script.write_text(render("workstation/bimkit-admin-keys.j2", keys_file=str(keys)))

    def keys_of(user: str) -> list[str]:
        result = subprocess.run(["sh", str(script), user], capture_output=True, text=True,
                                check=True)  # fmt: skip
        return result.stdout.splitlines()

    assert keys_of("gulsen.yildirim") == ["ssh-ed25519 AAAAC3Nz first", "ssh-rsa AAAAB3Nz second"]
    assert keys_of("gulsen") == [] and keys_of(".*") == []
