"""The restore drill's pure parts: what is drilled, verdicts, JUnit checks, the report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import html5lib
import pytest

from dr.config import DrillConfig, from_data
from dr.drill import (
    active_directory,
    files,
    in_sandbox,
    messages,
    pbx,
    plan,
    report,
    runner,
    sandbox,
)
from dr.sandbox import machine
from roles.dr_drill.plan import SCHEDULE, drill_config, drill_units
from tests.conftest import REPO, example_host_data

DATA = example_host_data()
CONFIG = from_data(DrillConfig, json.loads(drill_config("dr1", DATA["dr1"])))


def test_every_protected_service_is_drilled_with_its_own_procedure() -> None:
    chosen = {(t.host, t.service): t for t in plan.targets(CONFIG)}
    assert set(chosen) == {
        ("dc1", "active-directory"),
        ("dr1", "network-configs"),
        ("fs1", "file-shares"),
        ("log1", "logs"),
        ("pbx1", "pbx"),
    }
    assert chosen["dr1", "network-configs"].procedure == "files"
    assert chosen["dc1", "active-directory"].procedure == "active-directory"
    assert chosen["fs1", "file-shares"].procedure == "files"
    assert chosen["pbx1", "pbx"].procedure == "pbx"
    assert chosen["log1", "logs"].procedure == "files"
    assert chosen["dc1", "active-directory"].rto_seconds == 4 * 3600
    assert [t.service for t in plan.targets(CONFIG, ["fs1"])] == ["file-shares"]


def test_the_sandbox_must_not_reach_the_dcs_the_protected_hosts_or_the_dr_host() -> None:
    assert {"10.21.17.10", "10.21.33.10", "10.21.33.20"} <= set(CONFIG.production_addresses)
    assert CONFIG.sandbox_address.startswith("192.0.2.")
    assert (
        "OnCalendar=*-01,04,07,10-01 02:00\nPersistent=true" in drill_units()["bimkit-drill.timer"]
    )
    assert SCHEDULE in drill_units()["bimkit-drill.timer"]
    assert "OnFailure=bimkit-drill-failed.service" in drill_units()["bimkit-drill.service"]


RESULT: dict[str, Any] = {
    "host": "dc1",
    "service": "active-directory",
    "rpo_seconds": 86400,
    "rto_seconds": 14400,
    "rpo_achieved_seconds": 3600,
    "rto_achieved_seconds": 95.2,
    "checks": [{"name": "ldap_bind", "ok": True, "detail": ""}],
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, "OK"),
        ({"rpo_achieved_seconds": 90000}, "BREACH"),
        ({"rto_achieved_seconds": 20000}, "BREACH"),
        ({"checks": [{"name": "dbcheck", "ok": False, "detail": "2 errors"}]}, "FAILED"),
        ({"error": "restic restore failed"}, "FAILED"),
    ],
)
def test_verdicts(change: dict[str, Any], expected: str) -> None:
    assert plan.verdict({**RESULT, **change}) == expected


def test_junit_cases_become_checks_and_a_check_without_a_test_fails(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="t" name="test_ldap_bind[local]"/>'
        '<testcase classname="t" name="test_dns_srv[local-_ldap._tcp]"/>'
        '<testcase classname="t" name="test_dns_srv[local-_kerberos._udp]">'
        '<failure message="AssertionError: no SRV record">...</failure></testcase>'
        "</testsuite></testsuites>"
    )
    checks = in_sandbox.checks_from_junit(
        junit, ["ldap_bind", "dns_srv", "kerberos"], active_directory.SPECS
    )
    assert [(c["name"], c["ok"]) for c in checks] == [
        ("ldap_bind", True),
        ("dns_srv", False),
        ("kerberos", False),
    ]
    assert "no SRV record" in checks[1]["detail"]
    assert "no test_kerberos in the drill checks (test_active_directory.py)" in checks[2]["detail"]
    missing = in_sandbox.checks_from_junit(tmp_path / "none.xml", ["dbcheck"], "x.py")
    assert [(c["name"], c["ok"], c["detail"]) for c in missing] == [
        ("dbcheck", False, "the checks did not run")
    ]


def test_each_policy_check_has_a_test_in_the_drill_specs() -> None:
    checks_dir = REPO / "dr" / "drill" / "checks"
    isolation = (checks_dir / in_sandbox.ISOLATION_SPECS).read_text()
    for host, service, procedure in (("dc1", "active-directory", active_directory),
                                     ("pbx1", "pbx", pbx)):  # fmt: skip
        specs = (checks_dir / procedure.SPECS).read_text() + isolation
        names = in_sandbox.spec_names(procedure.ALWAYS, CONFIG.services[host][service].verify)
        for check in names:
            assert f"def test_{check}(" in specs, f"{procedure.SPECS}: no test_{check}"


def drill_document(drill_id: str, rto: float, status: str = "OK") -> dict[str, Any]:
    failed = (
        {"error": "restic restore of fs1's snapshot 1a2b3c4d failed", "bytes_restored": 10}
        if status != "OK"
        else {}
    )  # a failure after the restore: figures in part
    return {
        "drill_id": drill_id,
        "time": "2026-10-01T02:00:00+00:00",
        "municipality": "Kayapınar Belediyesi",
        "dr_host": "dr1",
        "cleaned_up": [],
        "results": [
            {**RESULT, "rto_achieved_seconds": rto, "status": "OK", "snapshot_id": "ea7fbfeb",
             "bytes_restored": 2_000_000, "files_restored": 2, "throughput_mb_s": 0.1},
            {"host": "fs1", "service": "file-shares", "rpo_seconds": 86400, "rto_seconds": 28800,
             "checks": [], "status": status, **failed},
        ],
    }  # fmt: skip


def test_the_report_is_turkish_by_default_english_on_request_and_keeps_history(
    tmp_path: Path,
) -> None:
    report.save(tmp_path, drill_document("20260701T020000", 120.0), "tr")
    saved = report.save(tmp_path, drill_document("20261001T020000", 95.0, "FAILED"), "tr")
    html = saved.read_text()
    assert "Felaket Kurtarma Tatbikatı Raporu" in html and "Kayapınar Belediyesi" in html
    assert "BAŞARISIZ" in html and "fs1&#39;s snapshot 1a2b3c4d" in html
    assert html.count("<svg") == 3 and "<script" not in html
    assert "<polyline" in html, "a trend line over the two drills"
    assert len(report.read_history(tmp_path)) == 2
    assert json.loads((tmp_path / "latest.json").read_text())["drill_id"] == "20261001T020000"
    english = report.rerender(tmp_path, "en").read_text()
    assert "Disaster Recovery Drill Report" in english and "FAILED" in english


def test_durations_read_naturally() -> None:
    assert report.duration(95, "tr") == "95 sn"
    assert report.duration(4 * 3600 + 300, "tr") == "4 sa 5 dk"
    assert report.duration(4 * 3600, "tr") == "4 sa"
    assert report.duration(600, "en") == "10 min"
    assert report.duration(4 * 86400, "tr") == "4 gün"


def test_every_word_of_the_drill_exists_in_both_languages() -> None:
    for catalogue in (messages.LABELS, messages.CHECKS, messages.MESSAGES, messages.STEPS):
        keys = {lang: set(catalogue[lang]) for lang in ("tr", "en")} if "tr" in catalogue else None
        if keys:
            assert keys["tr"] == keys["en"]
        else:
            assert all(set(entry) == {"tr", "en"} for entry in catalogue.values())


def rich_document() -> dict[str, Any]:
    """A drill with every kind of outcome: a pass, a failed check, an error, a breach."""
    document = drill_document("20261001T020000", 14.0)
    files = files_result(checked=2400, damaged=["/srv/shares/zabita/not-0001.txt"])
    document["results"][1] = {**document["results"][1], **files, "status": "FAILED"}
    document["results"].append({
        "host": "pbx1", "service": "pbx", "rpo_seconds": 86400, "rto_seconds": 7200,
        "checks": [], "status": "FAILED", **runner.error_of(
            "step_failed", step="start_asterisk", sandbox="drill-pbx1",
            detail="Unable to open specified master config file '/etc/asterisk/asterisk.conf'"),
    })  # fmt: skip
    document["timezone"] = "Europe/Istanbul"
    document["time"] = "2026-10-01T02:00:00+03:00"
    return document


def files_result(checked: int, damaged: list[str]) -> dict[str, Any]:
    args = {"checked": checked, "listed": checked, "sample": "", "damaged": len(damaged),
            "missing": 0, "changed": 0, "names": ", ".join(damaged)}  # fmt: skip
    return {"checks": [{"name": "checksums", "ok": not damaged, **messages.said(
        "files_checked", **args)}], "rto_achieved_seconds": 30.0}  # fmt: skip


def visible_text(html: str) -> str:
    """What a reader sees: no style sheet, no tags."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))


def test_the_turkish_report_is_valid_html_with_no_english_left(tmp_path: Path) -> None:
    html = report.render(rich_document(), [rich_document()], "tr")
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any HTML5 parse error
    visible = visible_text(html)
    english = [
        value
        for catalogue in (messages.LABELS["en"], *(
            {k: v["en"] for k, v in c.items()} for c in (messages.CHECKS, messages.STEPS)))
        for value in catalogue.values()
        if value not in messages.LABELS["tr"].values() and len(value) > 2
    ]  # fmt: skip
    english += ["case(s) passed", "files checked", "failed in sandbox", "max "]
    assert [word for word in english if word in visible] == []
    assert "{" not in visible and "}" not in visible.replace("{}", "")
    assert "hiçbir" not in visible and "2400 tanesi denetlendi" in visible
    assert "drill-pbx1 yalıtılmış ortamında Asterisk&#39;in başlatılması başarısız" in visible
    assert "Saat dilimi: Europe/Istanbul" in visible and "+03:00" in visible


def test_the_english_report_has_no_turkish_words() -> None:
    html = report.render(rich_document(), [rich_document()], "en")
    html5lib.HTMLParser(strict=True).parse(html)
    visible = visible_text(html)
    for word in ("BAŞARILI", "BAŞARISIZ", "denetlendi", "gerçekleşen", "Sunucu", " sa ", " dk"):
        assert word not in visible
    assert "2400 of 2400 files checked" in visible


def test_bars_are_readable_at_any_ratio_and_labels_are_whole() -> None:
    document = drill_document("20261001T020000", 14.0)
    chart = report.bar_chart(document["results"], "rto", "tr")
    fast = chart["rows"][0]  # 14 s against 4 h
    assert fast["width"] >= 100, "a 14 s bar is seen beside a 4 h target"
    assert fast["target_x"] > fast["width"] + 100
    assert fast["target_x"] <= chart["chart_width"]
    for row in chart["rows"]:
        assert chart["label_width"] >= report.text_width(row["label"])
        assert chart["width"] - chart["label_width"] - chart["chart_width"] >= report.text_width(
            row["value"]
        )
    assert [tick["label"] for tick in chart["ticks"]][:3] == ["1 sn", "10 sn", "1 dk"]


def test_a_file_verification_that_checked_nothing_fails(tmp_path: Path) -> None:
    manifest = tmp_path / "var/lib/bimkit/manifests/logs.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"version": 1, "files": {}}))
    checks, _ = files.recover(tmp_path, "logs", 100, 0, "seed")
    assert [(c["ok"], c["detail"]) for c in checks] == [
        (False, "nothing verified: 0 of 0 files checked")
    ]
    allowed, _ = files.recover(tmp_path, "logs", 100, 0, "seed", allow_empty=True)
    assert allowed[0]["ok"] is True


def test_a_failed_samba_tool_is_reported_by_its_own_error_line() -> None:
    output = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.13/_compression.py", line 99\n'
        '    raise EOFError("Compressed file ended before the "\n'
        "EOFError: Compressed file ended before the end-of-stream marker was reached\n"
    )
    assert in_sandbox.tool_error(output) == (
        "EOFError: Compressed file ended before the end-of-stream marker was reached"
    )
    assert in_sandbox.tool_error("ERROR(<class 'x'>): uncaught exception - boom\nmore") == (
        "ERROR(<class 'x'>): uncaught exception - boom"
    )
    assert in_sandbox.tool_error("one\ntwo\nthree\nfour") == "two / three / four"


def test_the_sandbox_may_read_the_restored_data_and_checks_but_write_only_its_run_folder() -> None:
    box = sandbox.plan(
        Path("/var/lib/bimkit/drill"),
        "dc1",
        "192.0.2.10/24",
        {"/w/run": in_sandbox.RUN_MOUNT},
        read_only_binds={"/w/restore": in_sandbox.RESTORE_MOUNT, "/lib": in_sandbox.LIB_MOUNT},
    )
    argv = machine.nspawn_argv(sandbox.spec_of(box, Path("/img")))
    assert "--bind-ro=/w/restore:/restore" in argv and "--bind-ro=/lib:/drill/lib" in argv
    assert [a for a in argv if a.startswith("--bind=")] == ["--bind=/w/run:/drill/run"]


def test_the_pbx_is_put_back_as_it_was_and_drilled_in_its_own_release() -> None:
    target = plan.targets(CONFIG, ["pbx1"])[0]
    script = pbx.put_back(target.paths)
    assert "cp -a /restore/etc/asterisk /etc/asterisk" in script
    assert "cp -a /restore/var/lib/asterisk/astdb.sqlite3 /var/lib/asterisk/astdb.sqlite3" in script
    assert script.endswith("chown -R root:asterisk /etc/asterisk")
    recipe = pbx.recipe("http://deb.debian.org/debian", CONFIG.pbx_release)
    assert (recipe.suite, CONFIG.pbx_release) == ("sid", "sid"), "pbx1 runs Debian unstable"
    assert "asterisk.service" in recipe.masked_units, "the drill starts it from the snapshot"
    assert {"asterisk", "asterisk-modules", "python3-testinfra"} <= set(recipe.apt_packages)
    assert runner.sandbox_recipe(CONFIG, "files") is None
