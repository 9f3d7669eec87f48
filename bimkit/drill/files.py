"""The file services' procedure: every restored file against the manifest taken at backup time.

Runs on the DR host over the restored tree: a share has no daemon to start,
so proving it means proving its content. A sample (`sample_percent`) with a
tolerance (`tolerance_percent`) is the quick mode; full is the default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bimkit import file_manifest

MANIFESTS_DIR = "/var/lib/bimkit/manifests"
"""Where the backup agent writes each service's manifest (roles/backup_agent)."""


def recover(
    restore_dir: Path, service: str, sample_percent: float, tolerance_percent: float, seed: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The `checksums` check and the verification's figures."""
    manifest_file = restore_dir / f"{MANIFESTS_DIR}/{service}.json".lstrip("/")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        detail = f"no readable manifest in the snapshot ({manifest_file}): {error}"
        return [{"name": "checksums", "ok": False, "detail": detail}], {}
    found = file_manifest.verify(manifest, str(restore_dir), sample_percent, seed)
    ok = found.passed(tolerance_percent)
    detail = (
        f"{found.checked} of {found.listed} files checked"
        + (f" (sample {sample_percent:g}%)" if sample_percent < 100 else "")
        + f", {len(found.mismatched)} damaged, {len(found.missing)} missing, "
        f"{len(found.changed)} changed during the backup"
    )
    if found.mismatched or found.missing:
        detail += ": " + ", ".join((found.mismatched + found.missing)[:5])
    return [{"name": "checksums", "ok": ok, "detail": detail}], found.as_dict()
