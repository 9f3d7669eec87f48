"""bimkit.dc_health and the DC facts' parsing, on output captured from the lab's Samba 4.22."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bimkit import dc_health
from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from roles.domain_controller.facts import FsmoRoles, ReplicationStatus
from roles.domain_controller.plan import password_settings_options, shown_password_settings
from tests.conftest import REPO

DATA = Path(__file__).parent / "data"
SHOWREPL = (DATA / "showrepl-dc2.json").read_text().splitlines()
FSMO = (DATA / "fsmo-show.txt").read_text().splitlines()


def replication_fact(report_lines: list[str], exit_code: int = 0) -> dict[str, object]:
    return ReplicationStatus().process([f"exit={exit_code}", *report_lines])  # type: ignore[no-any-return]


def test_a_replicating_dc_is_healthy() -> None:
    verdict = dc_health.replication("dc2", replication_fact(SHOWREPL), other_dcs=1)
    assert verdict.ok and verdict.detail == "5 partitions, 0 failures"


def test_a_failing_link_is_reported_with_partition_and_partner() -> None:
    report = json.loads("\n".join(SHOWREPL))
    broken = copy.deepcopy(report)
    broken["repsFrom"][0]["consecutive failures"] = 3
    broken["repsFrom"][0]["last attempt message"] = "failed, result 1225 (WERR_CONNECTION_REFUSED)"
    verdict = dc_health.replication(
        "dc2", replication_fact(json.dumps(broken).splitlines()), other_dcs=1
    )
    assert not verdict.ok
    assert verdict.detail == "1 of 5 partitions failing from DC1: WERR_CONNECTION_REFUSED"


def test_no_inbound_link_while_another_dc_exists_is_unhealthy() -> None:
    lonely = json.dumps({**json.loads("\n".join(SHOWREPL)), "repsFrom": []}).splitlines()
    assert not dc_health.replication("dc2", replication_fact(lonely), other_dcs=1).ok
    assert dc_health.replication("dc1", replication_fact(lonely), other_dcs=0).ok


def test_showrepl_that_fails_carries_samba_s_error() -> None:
    fact = replication_fact(["ERROR(runtime): DsReplicaGetInfo() failed"], exit_code=255)
    verdict = dc_health.replication("dc2", fact, other_dcs=1)
    assert not verdict.ok and "DsReplicaGetInfo() failed" in verdict.detail


def test_fsmo_roles_must_sit_on_the_primary() -> None:
    roles = FsmoRoles().process(["exit=0", *FSMO])
    assert roles["owners"]["PdcEmulationMasterRole"] == "dc1"
    assert dc_health.fsmo("dc2", roles, expected_owner="dc1").ok
    moved = {**roles, "owners": {**roles["owners"], "RidAllocationMasterRole": "dc2"}}
    verdict = dc_health.fsmo("dc2", moved, expected_owner="dc1")
    assert not verdict.ok and "RidAllocationMasterRole held by dc2" in verdict.detail


def test_dbcheck_verdict_follows_the_exit_code() -> None:
    clean = {"exit": 0, "output": ["Checking 355 objects", "Checked 355 objects (0 errors)"]}
    assert dc_health.dbcheck("dc1", clean).detail == "Checked 355 objects (0 errors)"
    broken = {"exit": 1, "output": ["Checked 355 objects (2 errors)"]}
    verdict = dc_health.dbcheck("dc1", broken)
    assert not verdict.ok and verdict.detail == "Checked 355 objects (2 errors)"


def test_srv_records_missing_from_a_site() -> None:
    answers = {record: True for record in dc_health.SRV_RECORDS}
    assert dc_health.srv_records("zabita-ws01", "zabita", answers).ok
    verdict = dc_health.srv_records("zabita-ws01", "zabita", {**answers, "_ldap._tcp": False})
    assert (verdict.ok, verdict.check) == (False, "dns-srv from zabita")
    assert verdict.detail == "unresolved: _ldap._tcp"


def test_health_needs_at_least_one_passing_check() -> None:
    ok = dc_health.Verdict("dc1", "dbcheck", True, "")
    assert dc_health.healthy([ok])
    assert not dc_health.healthy([])
    assert not dc_health.healthy([ok, dc_health.unreachable("dc2", "dc", "SSH connection failed")])


def test_password_settings_as_stored_match_the_estate_policy() -> None:
    """The example domain's attributes (ldbsearch on a lab DC), shown as samba-tool shows them."""
    stored = {
        "pwdProperties": 1, "pwdHistoryLength": 24, "minPwdLength": 12,
        "minPwdAge": -864000000000, "maxPwdAge": -155520000000000, "lockoutThreshold": 5,
        "lockoutDuration": -18000000000, "lockOutObservationWindow": -18000000000,
    }  # fmt: skip
    shown = shown_password_settings(stored)
    assert shown == dict(
        line.rsplit(": ", 1)
        for line in (DATA / "passwordsettings-show.txt").read_text().splitlines()
        if ": " in line and "plaintext" not in line and "information" not in line
    )
    hosts = {
        name: data
        for entries in plan_inventory(load_estate(REPO)).values()
        for name, data in entries
    }
    assert password_settings_options(hosts["dc1"]["account_policy"], shown) == []
    never = shown_password_settings({**stored, "maxPwdAge": -0x8000000000000000})
    assert never["Maximum password age (days)"] == "0"


def test_a_site_whose_records_name_no_dc_or_the_wrong_one_is_unhealthy() -> None:
    assert dc_health.site_locator("zabita-ws01", "zabita", ["dc1"], ["DC1"]).ok
    empty = dc_health.site_locator("zabita-ws01", "zabita", [], ["DC1"])
    assert not empty.ok and "no _ldap._tcp.zabita._sites record" in empty.detail
    wrong = dc_health.site_locator("zabita-ws01", "zabita", ["dc2"], ["DC1"])
    assert not wrong.ok and wrong.detail == "_ldap._tcp.zabita._sites names dc2, expected dc1"
