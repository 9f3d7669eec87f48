"""Restore drills on the lab: real restic restores, a real Samba DC restored in a nested sandbox.

The sandbox is a machine booted inside dr1 (itself a lab machine started
with what nested machines need). Runs after test_backups.py (file order),
whose backups of dc1 and fs1 it restores.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from bimkit.model.telephony import sip_devices
from dr.paths import CA_CERTIFICATE, DRILL_CONFIG, PASSWORD_FILE, REPOSITORY_FILE
from dr.paths import DRILL_REPORTS_DIR as REPORTS_DIR
from dr.paths import REPOSITORIES_DIR as DATA_DIR
from tests.lab.conftest import DeployTotals, bimkit
from tests.lab.test_backups import DR, ESTATE, dr, on

AS_DC1 = (
    f"RESTIC_REPOSITORY_FILE={REPOSITORY_FILE} RESTIC_PASSWORD_FILE={PASSWORD_FILE} "
    f"RESTIC_CACERT={CA_CERTIFICATE} restic"
)


def drill(*arguments: str) -> tuple[int, dict[str, Any], str]:
    result = bimkit("dr", "drill", "--json", *arguments, env={"BIMKIT_LAB": "1"}, check=False,
                    timeout=1800)  # fmt: skip
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def by_service(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["service"]: row for row in document["results"]}


def nothing_left_on_dr1() -> None:
    assert on(DR, "pgrep -f '^systemd-nspawn .*--machine=drill-' || true") == ""
    assert on(DR, "ip netns list | grep bkd- || true") == ""
    assert on(DR, "grep /var/lib/bimkit/drill /proc/mounts || true") == ""


def test_a_drill_of_every_service_restores_and_proves_each_one(
    first_deploy: DeployTotals,
) -> None:
    """`bimkit dr drill` with no --service: the DC, the file shares, the logs, the PBX
    (put back in a Debian unstable sandbox, with the counts its pre-hook recorded) and the
    switches' configuration archive on the DR host."""
    on(
        "fs1",
        "mkdir -p /srv/shares/ruhsat && echo 'Yapı ruhsatı 2026/114' > /srv/shares/ruhsat/114.txt",
    )
    seeded = int(on("fs1", "find /srv/shares -type f | wc -l"))
    assert seeded >= 2000, "the lab seeds fs1 with the departments' documents"
    code, out, err = dr("backup", "--host", "dc1", "--host", "fs1", "--host", "log1",
                        "--host", "pbx1", "--host", "dr1")  # fmt: skip
    assert code == 0, out + err
    code, document, err = drill()
    results = by_service(document)
    assert code == 0, json.dumps(document, indent=1) + err
    assert set(results) == {"active-directory", "file-shares", "logs", "pbx", "network-configs"}
    ad = results["active-directory"]
    assert ad["status"] == "OK"
    assert {c["name"] for c in ad["checks"]} == {
        "backup_file", "isolation", "ldap_bind", "object_counts", "kerberos", "dns_srv", "dbcheck",
    }  # fmt: skip
    assert all(check["ok"] for check in ad["checks"])
    assert 0 < ad["rto_achieved_seconds"] < ad["rto_seconds"]
    assert 0 <= ad["rpo_achieved_seconds"] < 3600
    shares = results["file-shares"]
    assert shares["status"] == "OK" and shares["verification"]["checked"] >= seeded
    assert shares["verification"]["mismatched"] == []
    acls = next(check for check in shares["checks"] if check["name"] == "acls")
    assert acls["ok"] and acls["args"]["checked"] >= seeded, acls
    logs = results["logs"]
    assert logs["status"] == "OK" and logs["verification"]["checked"] >= 600, logs
    seals = next(check for check in logs["checks"] if check["name"] == "log_seals")
    assert seals["ok"] and seals["args"]["days"] >= 60 and seals["args"]["failed"] == 0, seals
    # The switches' archive on the DR host itself (at least its README before any
    # `bimkit net backup`; tests/lab/test_switches.py fills it).
    archive = results["network-configs"]
    assert archive["status"] == "OK" and archive["verification"]["checked"] >= 1, archive
    pbx = results["pbx"]
    assert pbx["status"] == "OK" and pbx["procedure"] == "pbx"
    assert {check["name"] for check in pbx["checks"]} == {
        "isolation", "voicemail_call", "asterisk_starts", "endpoint_counts", "queue_counts",
    }  # fmt: skip
    assert all(check["ok"] for check in pbx["checks"]), pbx["checks"]
    assert pbx["files_restored"] > 20, "pjsip.conf, the dialplan, voicemail, astdb"
    html = on(DR, f"cat {REPORTS_DIR}/latest.html")
    assert "Felaket Kurtarma Tatbikatı Raporu" in html and document["drill_id"] in html
    assert document["drill_id"] in on(DR, f"tail -n 1 {REPORTS_DIR}/history.jsonl")
    nothing_left_on_dr1()


def test_a_pbx_whose_files_differ_from_what_it_runs_fails_its_drill(
    first_deploy: DeployTotals,
) -> None:
    """pjsip.conf cut short on disk, Asterisk not reloaded: production still runs every
    endpoint, but the backup could not bring them back, and the drill says so."""
    conf = "/etc/asterisk/pjsip.conf"
    on("pbx1", f"cp -p {conf} /root/pjsip.conf.good && head -n 60 /root/pjsip.conf.good > {conf}")
    try:
        code, out, err = dr("backup", "--host", "pbx1")
        assert code == 0, out + err
        code, document, err = drill("--service", "pbx1")
    finally:
        on("pbx1", f"cp -p /root/pjsip.conf.good {conf} && rm /root/pjsip.conf.good")
        dr("backup", "--host", "pbx1")  # the next drill restores a good snapshot
    assert code == 1
    [result] = document["results"]
    checks = {check["name"]: check for check in result["checks"]}
    assert result["status"] == "FAILED" and not checks["endpoint_counts"]["ok"]
    endpoints = len(sip_devices(ESTATE))
    assert f"production had {endpoints} " in checks["endpoint_counts"]["detail"], checks
    assert checks["asterisk_starts"]["ok"] and checks["queue_counts"]["ok"]
    nothing_left_on_dr1()


def test_a_crashed_drills_sandbox_is_isolated_and_removed_by_the_next_drill(
    first_deploy: DeployTotals,
) -> None:
    on(DR, "systemd-run --unit bimkit-test-drill --collect bimkit-drill run --service dc1")
    on(DR, "for i in $(seq 1 300); do ip netns exec bkd-dc1 ss -ltn 2>/dev/null | grep -q ':389 ' "
       "&& break; sleep 1; done")  # fmt: skip
    on(DR, "kill -9 $(systemctl show -p MainPID --value bimkit-test-drill)")
    # The sandbox of the killed drill still runs: it reaches nothing but itself.
    routes = on(DR, "ip -n bkd-dc1 -4 route")
    assert routes.splitlines() == [
        "192.0.2.0/24 dev isolated0 proto kernel scope link src 192.0.2.10"
    ]
    connect = "import socket\ntry: socket.create_connection(('10.21.17.10', 389), 3)\n"
    connect += "except OSError as error: print(error)"
    probe = on(DR, f"ip netns exec bkd-dc1 python3 -c {shlex.quote(connect)}")
    assert "unreachable" in probe.lower()
    code, document, err = drill("--service", "fs1")
    assert code == 0, err
    assert {"drill-dc1", "bkd-dc1"} <= set(document["cleaned_up"])
    nothing_left_on_dr1()


def test_a_corrupted_pack_fails_the_drill_naming_snapshot_and_file(
    first_deploy: DeployTotals,
) -> None:
    on(
        "fs1",
        "mkdir -p /srv/shares/tatbikat && head -c 3M /dev/urandom > /srv/shares/tatbikat/plan.bin",
    )
    code, out, err = dr("backup", "--host", "fs1")
    assert code == 0, out + err
    packs = f"{DATA_DIR}/fs1/data"
    on(DR, f"rm -rf /root/fs1-packs && cp -a {packs} /root/fs1-packs && find {packs} -type f "
       "-size +1M -exec sh -c 'printf BOZUK | dd of=\"$1\" bs=1 seek=4096 conv=notrunc "
       "status=none' _ {} \\;")  # fmt: skip
    try:
        code, document, err = drill("--service", "fs1")
    finally:
        on(DR, f"rm -rf {packs} && cp -a /root/fs1-packs {packs} && rm -rf /root/fs1-packs")
    shares = by_service(document)["file-shares"]
    assert code == 1 and shares["status"] == "FAILED"
    assert f"snapshot {shares['snapshot_id']} failed" in shares["error"]
    assert re.search(r"/srv/shares/\S+: decrypting blob .* ciphertext verification failed",
                     shares["error"]), shares["error"]  # fmt: skip


def test_a_snapshot_older_than_the_rpo_is_a_breach(first_deploy: DeployTotals) -> None:
    override = "/root/drill-rpo.json"
    on(DR, f"python3 -c \"import json; c = json.load(open('{DRILL_CONFIG}')); "
       "c['services'] = {'fs1': c['services']['fs1']}; "
       "c['services']['fs1']['file-shares']['rpo_seconds'] = 1; "
       f"json.dump(c, open('{override}', 'w'))\"")  # fmt: skip
    result = on(DR, f"BIMKIT_DRILL_CONFIG={override} bimkit-drill run 2>/dev/null; echo exit=$?")
    document, exit_line = result.rsplit("\n", 1)
    [shares] = json.loads(document)["results"]
    assert exit_line == "exit=1"
    assert shares["status"] == "BREACH" and shares["rpo_achieved_seconds"] > 1
    assert all(check["ok"] for check in shares["checks"]), "restored fine, only too old"


def test_a_truncated_dc_backup_fails_with_sambas_own_error(first_deploy: DeployTotals) -> None:
    staging = "/var/backups/bimkit/active-directory"
    tarball = f"{staging}/samba-backup.tar.bz2"
    on("dc1", f"truncate -s $(( $(stat -c %s {tarball}) / 2 )) {tarball} && {AS_DC1} backup -q "
       f"--host dc1 --tag service=active-directory {staging}")  # fmt: skip
    try:
        code, document, _ = drill("--service", "dc1")
    finally:
        code_after, out, err_after = dr("backup", "--host", "dc1")  # a whole backup again
    ad = by_service(document)["active-directory"]
    assert code == 1 and ad["status"] == "FAILED"
    assert "samba-tool domain backup restore failed in sandbox drill-dc1" in ad["error"]
    assert any(word in ad["error"] for word in ("bz2", "tar", "end-of-stream", "EOF")), ad["error"]
    assert code_after == 0, out + err_after
    nothing_left_on_dr1()


def test_a_failed_drill_run_by_its_timer_unit_notifies_the_admins(
    first_deploy: DeployTotals,
) -> None:
    """Only pbx1, with a check bimkit has no procedure for: a quick, certain failure."""
    override = "/root/drill-pbx.json"
    on(DR, f"python3 -c \"import json; c = json.load(open('{DRILL_CONFIG}')); "
       "pbx = c['services']['pbx1']['pbx']; pbx['verify'] = ['fax-works']; "
       "c['services'] = {'pbx1': {'pbx': pbx}}; "
       f"json.dump(c, open('{override}', 'w'))\"")  # fmt: skip
    on(DR, f"systemctl set-environment BIMKIT_DRILL_CONFIG={override}")
    try:
        assert on(DR, "systemctl start bimkit-drill.service; echo $?") != "0"
    finally:
        # Leave no failed unit behind: the base specs require none.
        on(DR, "systemctl unset-environment BIMKIT_DRILL_CONFIG; "
           "systemctl reset-failed bimkit-drill.service")  # fmt: skip
    journal = "journalctl -u bimkit-drill-failed.service --no-pager -o cat"
    on(DR, f"for i in $(seq 1 30); do {journal} | grep -q FAILED && break; sleep 1; done")
    assert "bimkit: restore-drill on dr1 FAILED" in on(DR, journal)
    assert "no recovery procedure" in on(DR, "journalctl -u bimkit-drill.service --no-pager")


def test_the_report_is_rendered_again_in_english_on_the_admins_machine(
    first_deploy: DeployTotals, tmp_path: Path
) -> None:
    output = tmp_path / "report.html"
    result = bimkit("dr", "report", "--lang", "en", "--output", str(output),
                    env={"BIMKIT_LAB": "1"})  # fmt: skip
    assert str(output) in result.stdout
    html = output.read_text(encoding="utf-8")
    assert "Disaster Recovery Drill Report" in html and "<svg" in html
