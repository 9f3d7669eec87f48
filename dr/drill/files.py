"""The file services' procedure: every restored file against the manifest taken at backup time.

Runs on the DR host over the restored tree: a share has no daemon to start,
so proving it means proving its content. A sample (`sample_percent`) with a
tolerance (`tolerance_percent`) is the quick mode; full is the default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dr import manifest
from dr.drill.messages import said
from dr.paths import MANIFESTS_DIR


def recover(
    restore_dir: Path,
    service: str,
    sample_percent: float,
    tolerance_percent: float,
    seed: str,
    allow_empty: bool = False,
    acls: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The `checksums` check (and with `acls` the `acls` check: the same files keep their
    owner, mode and ACL) and the verification's figures.

    A verification that checked no file proved nothing: it fails ("nothing
    verified") unless the policy says `allow_empty`.
    """
    manifest_file = restore_dir / f"{MANIFESTS_DIR}/{service}.json".lstrip("/")
    try:
        listed = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [check(False, "no_manifest", path=str(manifest_file), error=str(error))], {}
    found = manifest.verify(listed, str(restore_dir), sample_percent, seed)
    figures = {
        "checked": found.checked,
        "listed": found.listed,
        "sample": f" (sample {sample_percent:g}%)" if sample_percent < 100 else "",
        "damaged": len(found.mismatched),
        "missing": len(found.missing),
        "changed": len(found.changed),
        "names": ", ".join((found.mismatched + found.missing)[:5]),
    }
    if found.checked == 0 and not allow_empty:
        return [check(False, "nothing_verified", **figures)], found.as_dict()
    checks = [check(found.passed(tolerance_percent), "files_checked", **figures)]
    if acls:
        checks.append(access_check(found))
    return checks, found.as_dict()


def access_check(found: manifest.Verification) -> dict[str, Any]:
    """The `acls` check: every checked file kept its owner, mode and ACL."""
    if found.access_checked == 0:  # e.g. a manifest written before owners were recorded
        return {"name": "acls", "ok": False, **said("nothing_verified", listed=found.checked)}
    ok = not found.access_differs
    return {
        "name": "acls",
        "ok": ok,
        **said(
            "access_kept" if ok else "access_differs",
            checked=found.access_checked,
            differs=len(found.access_differs),
            names=", ".join(found.access_differs[:5]),
        ),
    }


def check(ok: bool, message: str, **args: Any) -> dict[str, Any]:
    """The `checksums` check: passed or not, and what it found in words the report translates."""
    return {"name": "checksums", "ok": ok, **said(message, **args)}
