"""The log archive's check in a drill: every restored closed day against its seal.

The same verification as `bimkit-logs verify` on the log server (dr.logs),
run on the restored copy: each day's RFC 3161 token against the TSA's
certificates, then every file against the day's manifest.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from dr.drill.messages import said
from dr.logs.jobs import verify_days
from dr.paths import LOG_ARCHIVE

CHECK = "log-seals"


def check(restore_dir: Path, ca_file: str | None, snapshot_day: datetime.date) -> dict[str, Any]:
    """Days before the snapshot's were closed when it was taken: each must verify."""
    root = restore_dir / LOG_ARCHIVE.lstrip("/")
    if ca_file is None:
        return _result(False, "no_tsa_certificates", archive=LOG_ARCHIVE)
    verdicts = verify_days(root, snapshot_day, ca_file)
    if not verdicts:
        return _result(False, "no_days_verified", archive=LOG_ARCHIVE)
    problems = [f"{v.day}: {p}" for v in verdicts for p in v.problems]
    failed = [v for v in verdicts if not v.ok]
    return _result(
        not failed,
        "days_failed" if failed else "days_verified",
        days=len(verdicts),
        failed=len(failed),
        files=sum(v.files for v in verdicts),
        problems="; ".join(problems[:5]).replace(str(root), LOG_ARCHIVE) or "-",
    )


def _result(ok: bool, message: str, **args: Any) -> dict[str, Any]:
    return {"name": "log_seals", "ok": ok, **said(message, **args)}
