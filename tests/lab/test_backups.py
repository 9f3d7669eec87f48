"""Backups to the DR repository on the lab: real restic, real rest-server, real faults.

Runs before test_lab.py (file order) on the same lab and deploy.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from bimkit.model.load import load_estate
from dr.paths import (
    BACKUP_CONFIG,
    CA_CERTIFICATE,
    CREDENTIALS_DIR,
    DR_CACHE,
    METRICS_DIR,
    PASSWORD_FILE,
    REPOSITORY_FILE,
)
from dr.paths import REPOSITORIES_DIR as DATA_DIR
from tests.conftest import REPO
from tests.lab.conftest import DeployTotals, bimkit

ESTATE = load_estate(REPO)
DR = ESTATE.dr_repository_host.name


def on(host: str, command: str, check: bool = True) -> str:
    return bimkit("lab", "ssh", host, "--", command, check=check).stdout.strip()


def dr(*arguments: str, check: bool = False) -> tuple[int, str, str]:
    # Wide enough that the summary table never wraps a message.
    result = bimkit("dr", *arguments, env={"BIMKIT_LAB": "1", "COLUMNS": "300"}, check=check)
    return result.returncode, result.stdout, result.stderr


def status_of(host: str) -> list[dict[str, Any]]:
    _, out, err = dr("status", host, "--json")
    assert out, err
    rows: list[dict[str, Any]] = json.loads(out)["services"]
    return rows


def snapshot_ids(host: str) -> list[str]:
    ids = on(DR, f"bimkit-dr snapshots {host} | python3 -c 'import json,sys; "
             "print(\" \".join(s[\"short_id\"] for s in json.load(sys.stdin)))'")  # fmt: skip
    return ids.split()


AS_THE_HOST = (
    f"RESTIC_REPOSITORY_FILE={REPOSITORY_FILE} RESTIC_PASSWORD_FILE={PASSWORD_FILE} "
    f"RESTIC_CACERT={CA_CERTIFICATE} restic"
)
"""restic on a protected host with its own (append-only) credential."""


def test_repository_and_agents_run(first_deploy: DeployTotals) -> None:
    assert on(DR, "systemctl is-active restic-rest-server bimkit-rest-admin").split() == [
        "active",
        "active",
    ]
    assert on("dc1", "systemctl is-active bimkit-backup@active-directory.timer") == "active"
    assert on(DR, "systemctl is-active bimkit-dr-forget.timer bimkit-dr-check.timer").split() == [
        "active",
        "active",
    ]


def test_backup_of_the_dc_reaches_the_dr_repository_and_status_is_green(
    first_deploy: DeployTotals,
) -> None:
    code, out, err = dr("backup", "--host", "dc1")
    assert code == 0, out + err
    [row] = status_of("dc1")
    assert (row["service"], row["status"]) == ("active-directory", "OK"), row
    assert row["age_seconds"] < 600 and row["files"] >= 2
    metrics = on("dc1", f"cat {METRICS_DIR}/bimkit_backup_active_directory.prom")
    assert 'bimkit_backup_exit_code{service="active-directory"} 0' in metrics
    assert 'bimkit_backup_bytes_added{service="active-directory"}' in metrics
    listing = on(DR, "bimkit-dr snapshots dc1")
    assert "/var/backups/bimkit/active-directory" in listing


def test_a_host_credential_cannot_forget_or_delete_snapshots(first_deploy: DeployTotals) -> None:
    before = snapshot_ids("dc1")
    assert before, "needs the backup made by the previous test"
    refused = bimkit(
        "lab", "ssh", "dc1", "--", f"{AS_THE_HOST} forget --prune {before[0]}", check=False
    )
    assert refused.returncode != 0
    assert snapshot_ids("dc1") == before
    other = bimkit(
        "lab", "ssh", "dc1", "--",
        f"RESTIC_PASSWORD_FILE={PASSWORD_FILE} RESTIC_CACERT={CA_CERTIFICATE} restic -r "
        f"\"$(sed 's#/dc1/$#/fs1/#' {REPOSITORY_FILE})\" cat config",
        check=False,
    )  # fmt: skip
    assert other.returncode != 0, "a host must not reach another host's repository"


def test_a_wrong_repository_password_is_named_as_such(first_deploy: DeployTotals) -> None:
    on(
        "dc1",
        "umask 077; echo wrong > /root/wrong-password; python3 -c 'import json; "
        f'c = json.load(open("{BACKUP_CONFIG}")); c["repository"]["password_file"] = '
        '"/root/wrong-password"; json.dump(c, open("/root/wrong.json", "w"))\'',
    )
    result = bimkit(
        "lab", "ssh", "dc1", "--",
        "BIMKIT_BACKUP_CONFIG=/root/wrong.json bimkit-backup active-directory", check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "dc1's repository (rest:https://" in result.stderr
    assert "the repository password is wrong [exit 12]" in result.stderr


def test_an_unreachable_dr_repository_fails_the_backup_and_tells_the_admins(
    first_deploy: DeployTotals,
) -> None:
    on(DR, "systemctl stop restic-rest-server")
    try:
        code, out, _ = dr("backup", "--host", "dc1")
    finally:
        on(DR, "systemctl start restic-rest-server")
    assert code == 1
    assert "FAILED" in out
    assert "cannot be reached; no backup made" in out, "the agent's own words, not systemd's"
    assert "systemctl status" not in out
    journal = on("dc1", "journalctl -o cat --no-pager -u bimkit-backup@active-directory -n 20")
    dr_address = ESTATE.dr_repository_host.address
    assert (
        f"active-directory on dc1: the DR repository rest:https://{dr_address}:8000/dc1/ "
        "cannot be reached; no backup made" in journal
    ), journal
    told = on("dc1", "journalctl -o cat --no-pager -u bimkit-backup-failed@active-directory -n 5")
    assert "bimkit: backup of active-directory on dc1 FAILED" in told
    assert on("dc1", "systemctl is-failed bimkit-backup@active-directory.service", check=False) == (
        "failed"
    )


def test_a_backup_killed_midway_is_followed_by_a_clean_one(first_deploy: DeployTotals) -> None:
    """fs1's shares get 1 GB of new random files; restic is killed with -9 while it uploads."""
    on("fs1", "rm -rf /srv/shares/arsiv && mkdir -p /srv/shares/arsiv && for i in $(seq 1 16); "
              "do head -c 64M /dev/urandom > /srv/shares/arsiv/dosya-$i.bin; done")  # fmt: skip
    on("fs1", "systemctl start --no-block bimkit-backup@file-shares.service")
    deadline = time.monotonic() + 120
    while not on("fs1", "pgrep -f '^restic backup' || true"):
        assert time.monotonic() < deadline, "restic backup never started"
        time.sleep(0.1)
    time.sleep(1)
    on("fs1", "pkill -9 -f '^restic backup'")
    unit = "bimkit-backup@file-shares"
    state = f"timeout 60 sh -c 'while [ $(systemctl is-active {unit}) = activating ]; do "
    state += f"sleep 0.5; done'; systemctl is-failed {unit} || true"
    assert on("fs1", state) == "failed", "the killed run fails its unit"
    code, out, err = dr("backup", "--host", "fs1")
    assert code == 0, out + err
    code, out, err = dr("check", "fs1", "--subset", "100%")
    assert code == 0, out + err
    assert [row["status"] for row in status_of("fs1")] == ["OK"]


def test_a_corrupted_pack_is_found_by_check(first_deploy: DeployTotals) -> None:
    pack = on(DR, f"find {DATA_DIR}/dc1/data -type f | head -1")
    assert pack
    on(DR, f"cp {pack} /root/pack.orig")
    on(DR, f"printf BOZUK | dd of={pack} bs=1 seek=100 conv=notrunc status=none")
    try:
        code, out, _ = dr("check", "dc1", "--subset", "100%")
    finally:
        on(DR, f"cp /root/pack.orig {pack}")
    assert code == 1
    assert "FAIL" in out


def test_a_backup_whose_data_is_gone_shows_the_agents_own_error(
    first_deploy: DeployTotals,
) -> None:
    # rsyslog stopped meanwhile, its socket too (a local line would start it again): the
    # next line it receives would make the folder again, and the one moved back would land
    # inside it.
    on("log1", "systemctl stop syslog.socket rsyslog.service && "
               "mv -T /var/log/remote /var/log/remote.away")  # fmt: skip
    try:
        code, out, _ = dr("backup", "--host", "log1")
    finally:
        on("log1", "mv -T /var/log/remote.away /var/log/remote; "
                   "systemctl start syslog.socket rsyslog.service")  # fmt: skip
    assert code == 1
    assert "logs on log1: /var/log/remote does not exist; no backup made" in out, out
    assert "systemctl status" not in out


# While restic runs: on a protected host, its backup (of 300 MB more); then on the DR host,
# a full check of that repository, which the backup made long enough to watch.
SCANS = {
    "fs1": ("systemctl start --no-block bimkit-backup@file-shares.service", "^restic backup"),
    DR: ("systemd-run --unit bimkit-test-check --collect bimkit-dr check fs1 --subset 100%",
         "^restic .*check"),
}  # fmt: skip


@pytest.mark.parametrize("host", list(SCANS))
def test_no_secret_in_process_list_or_logs(first_deploy: DeployTotals, host: str) -> None:
    """ps is read while restic provably runs: its own command line is in the same listing."""
    from tests.lab.conftest import lab_secret_values

    start, restic = SCANS[host]
    on("fs1", "head -c 300M /dev/urandom > /srv/shares/scan.bin")  # a backup that takes a while
    try:
        on(host, start)
        listing = on(
            host,
            f"for i in $(seq 1 600); do pgrep -f '{restic}' >/dev/null && break; sleep 0.05; "
            "done; ps -eo args; ps -eo args e 2>/dev/null; journalctl --no-pager -n 2000",
        )
        assert any(re.match(restic, line) for line in listing.splitlines()), (
            "restic was not running while ps was read"
        )
        assert [name for name, value in lab_secret_values().items() if value in listing] == []
    finally:
        on(host, f"while pgrep -f '{restic}' >/dev/null; do sleep 0.5; done")
        on("fs1", "rm -f /srv/shares/scan.bin")


def test_status_reads_snapshot_files_as_restic_lists_them(first_deploy: DeployTotals) -> None:
    """bimkit-dr decrypts snapshot files itself with the kept master key; restic agrees."""
    code, out, err = dr("backup", "--host", "dc1")
    assert code == 0, out + err
    ours = json.loads(on(DR, "bimkit-dr snapshots dc1"))
    theirs = json.loads(on(DR, f"RESTIC_REPOSITORY_FILE={CREDENTIALS_DIR}/dc1.repository "
                           f"RESTIC_PASSWORD_FILE={CREDENTIALS_DIR}/dc1.password "
                           "restic snapshots --json --no-lock"))  # fmt: skip
    assert ours and ours == theirs
    assert on(DR, f"stat -c %a {DR_CACHE}/master-keys/dc1.json") == "600"
    victim = f"{DATA_DIR}/dc1/snapshots/{ours[-1]['id']}"
    on(DR, f"cp -p {victim} /root/snapshot.orig && printf BOZUK | "
       f"dd of={victim} bs=1 seek=20 conv=notrunc status=none")  # fmt: skip
    try:
        [row] = status_of("dc1")
    finally:
        on(DR, f"cp -p /root/snapshot.orig {victim}")
    assert row["status"] == "ERROR" and f"{victim}: content does not match" in row["error"]
    assert [row["status"] for row in status_of("dc1")] == ["OK"]
