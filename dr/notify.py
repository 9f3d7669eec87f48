"""Tell the admins that a backup or a restore drill failed: a command, a webhook, or mail.

    bimkit-backup-notify SERVICE [UNIT]   run by bimkit-backup-failed@SERVICE.service
                                          (bimkit-drill-failed, bimkit-logs-seal-failed)

Reads `notify` from /etc/bimkit/backup.json (BIMKIT_NOTIFY_CONFIG: another
file, drill.json or logs.json). The message names the host, the service and the
last lines of the failed unit's journal (UNIT, default
bimkit-backup@SERVICE.service).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

from dr.config import BackupConfig, ConfigInvalid, DrillConfig, LogsConfig, Notify, load
from dr.paths import BACKUP_CONFIG, DRILL_CONFIG, LOGS_CONFIG

KINDS: dict[str, type[BackupConfig] | type[DrillConfig] | type[LogsConfig]] = {
    os.path.basename(DRILL_CONFIG): DrillConfig,
    os.path.basename(LOGS_CONFIG): LogsConfig,
}


def configured(path: str) -> Notify:
    """`notify` of the backup, drill or log archive configuration in `path`."""
    return load(KINDS.get(os.path.basename(path), BackupConfig), path).notify


def send(notify: Notify, host: str, service: str, subject: str, body: str) -> bool:
    """Through every channel configured; False when none is (the journal only)."""
    if notify.command:
        env = {**os.environ, "BIMKIT_HOST": host, "BIMKIT_SERVICE": service,
               "BIMKIT_SUBJECT": subject}  # fmt: skip
        subprocess.run(["/bin/sh", "-c", notify.command], input=body, text=True, env=env,
                       check=True)  # fmt: skip
    if notify.webhook:
        document = {"host": host, "service": service, "status": "failed", "text": body}
        request = urllib.request.Request(
            notify.webhook, method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps(document).encode(),
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=20).close()
    if notify.mail_to:
        subprocess.run(["mail", "-s", subject, notify.mail_to], input=body, text=True,
                       check=True)  # fmt: skip
    return bool(notify.command or notify.webhook or notify.mail_to)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not 1 <= len(arguments) <= 2:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    service = arguments[0]
    unit = arguments[1] if len(arguments) > 1 else f"bimkit-backup@{service}.service"
    what = f"backup of {service}" if unit.startswith("bimkit-backup@") else service
    try:
        notify = configured(os.environ.get("BIMKIT_NOTIFY_CONFIG", BACKUP_CONFIG))
    except ConfigInvalid as error:
        print(f"bimkit-backup-notify: {error}", file=sys.stderr)
        return 1
    host = socket.gethostname()
    journal = subprocess.run(
        ["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "cat"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    subject = f"bimkit: {what} on {host} FAILED"
    sent = send(notify, host, service, subject, f"{subject}\n\n{journal}")
    print(subject + ("" if sent else " (no notification configured: journal only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
