"""Bundled operations (roles.operations.converge) against real drift on real machines.

One fact round trip per role step must still see every kind of drift: content,
mode, a link, a stopped service, a private file left readable.
"""

from __future__ import annotations

from tests.lab.conftest import DeployTotals, deploy_site
from tests.lab.test_backups import on

DRIFT = {
    "zabita-ws01": "echo 'server 192.0.2.1' >> /etc/chrony/chrony.conf; "
    "chmod 600 /etc/resolv.conf; systemctl disable --now rsyslog",
    "dc2": "rm /etc/systemd/system/smbd.service",
    "fs1": "chmod 644 /etc/bimkit/restic/password",
}


def test_every_kind_of_drift_is_found_and_mended_once(first_deploy: DeployTotals) -> None:
    for host, command in DRIFT.items():
        on(host, command)
    limits = [option for host in DRIFT for option in ("--limit", host)]
    mended = deploy_site(*limits)
    assert mended.errors == 0 and mended.changed >= 3, mended.output[-3000:]
    assert "192.0.2.1" not in on("zabita-ws01", "cat /etc/chrony/chrony.conf")
    assert on("zabita-ws01", "stat -c %a /etc/resolv.conf") == "644"
    assert on(
        "zabita-ws01", "systemctl is-active rsyslog; systemctl is-enabled rsyslog"
    ).split() == [
        "active",
        "enabled",
    ]
    assert on("dc2", "readlink /etc/systemd/system/smbd.service") == "/dev/null"
    assert on("fs1", "stat -c '%a %U' /etc/bimkit/restic/password") == "600 root"
    again = deploy_site(*limits)
    assert (again.changed, again.errors) == (0, 0), again.changed_operations + again.output[-3000:]
