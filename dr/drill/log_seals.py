"""The log archive's check in a drill: the restored archive against the chain's copy here.

The same verification as `bimkit-logs verify` on the log server
(dr.logs.verification), run on the restored copy as of the snapshot, against
the copy of the chain that the log server sent to this DR host as it sealed:
every record and token, every day from the chain's first to the snapshot's
eve, every file against its day's seal.
"""

from __future__ import annotations

import datetime
import zoneinfo
from pathlib import Path
from typing import Any

from dr.drill.messages import said
from dr.logs.verification import verify
from dr.paths import LOG_ARCHIVE

CHECK = "log-seals"


def check(
    restore_dir: Path,
    copy: Path | None,
    taken: datetime.datetime,
    zone: str,
    tsa_ca_file: str | None = None,
) -> dict[str, Any]:
    """Days before the snapshot's were closed when it was taken: each must verify.

    + copy: this DR host's copy of the log server's chain (None: none configured)
    + tsa_ca_file: the TSA's CA as the data names it, on this host
    """
    root = restore_dir / LOG_ARCHIVE.lstrip("/")
    if copy is None or not copy.is_dir():
        return _result(False, "no_chain_copy", archive=LOG_ARCHIVE, copy=str(copy or "-"))
    trusted = Path(tsa_ca_file).read_bytes() if tsa_ca_file else None
    result = verify(root, zoneinfo.ZoneInfo(zone), taken, copy, as_of=taken, trusted=trusted)
    if not result.days:
        return _result(False, "no_days_verified", archive=LOG_ARCHIVE)
    failed = [v for v in result.days if not v.ok]
    # Each failing day by name, with its first problem: a copied-over day lists every file.
    problems = result.chain_problems[:3] + [f"{v.day}: {v.problems[0]}" for v in failed[:8]]
    return _result(
        result.ok,
        "days_failed" if not result.ok else "days_verified",
        days=len(result.days),
        failed=len(failed) + (1 if result.chain_problems else 0),
        files=sum(v.files for v in result.days),
        records=result.records,
        problems="; ".join(problems).replace(str(root), LOG_ARCHIVE) or "-",
    )


def _result(ok: bool, message: str, **args: Any) -> dict[str, Any]:
    return {"name": "log_seals", "ok": ok, **said(message, **args)}
