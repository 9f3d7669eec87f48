"""What `bimkit-logs` does to the archive: seal closed days, verify, prune, report status.

Each job returns plain results (dataclasses) that the CLI prints or dumps as
JSON; the drill calls `verify_days` on a restored copy.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dr.config import TimeStampAuthority
from dr.errors import DrError
from dr.logs.archive import (
    MANIFEST,
    TOKEN,
    ManifestUnreadable,
    closed_days,
    compare,
    day_files,
    day_folders,
    expired_days,
    folder_bytes,
    hash_files,
    manifest_text,
    missing_days,
    parse_manifest,
    write_atomically,
)
from dr.logs.timestamp import (
    TokenInvalid,
    TsaUnreachable,
    check_reply,
    check_token,
    fetch_token,
    query,
    stamped_at,
)

log = logging.getLogger("bimkit-logs")


@dataclass(frozen=True)
class SealResult:
    day: str
    outcome: str
    """sealed | unsealed (the TSA gave no valid token: retried next run) | empty"""
    files: int = 0
    bytes: int = 0
    detail: str = ""


def seal_days(root: Path, today: datetime.date, authority: TimeStampAuthority) -> list[SealResult]:
    """Seal every closed day that has no token yet, oldest first; a failure stops nothing."""
    results = []
    for day, folder in day_folders(root).items():
        if day >= today or (folder / TOKEN).exists():
            continue
        results.append(seal_day(day, folder, authority))
    return results


def seal_day(day: datetime.date, folder: Path, authority: TimeStampAuthority) -> SealResult:
    names = day_files(folder)
    if not names:
        return SealResult(day.isoformat(), "empty", detail=f"{folder}: no log files to seal")
    digests = hash_files(folder, names)
    size = sum((folder / name).stat().st_size for name in names)
    write_atomically(folder / MANIFEST, manifest_text(digests).encode())
    with tempfile.TemporaryDirectory(prefix="bimkit-seal-") as work:
        request = Path(work) / "request.tsq"
        reply = Path(work) / "reply.tsr"
        request.write_bytes(query(folder / MANIFEST))
        try:
            reply.write_bytes(fetch_token(authority, request.read_bytes()))
            check_reply(reply, request, authority.ca_file)
        except (TsaUnreachable, TokenInvalid) as error:
            log.error("day %s not sealed: %s", day, error)
            return SealResult(day.isoformat(), "unsealed", len(names), size, str(error))
        write_atomically(folder / TOKEN, reply.read_bytes())
    for name in names:  # the collector is done with a closed day; nobody writes it again
        os.chmod(folder / name, 0o440)
    log.info("day %s sealed: %d files, %d bytes", day, len(names), size)
    return SealResult(day.isoformat(), "sealed", len(names), size)


@dataclass(frozen=True)
class DayVerdict:
    day: str
    files: int
    problems: list[str] = field(default_factory=list)
    stamped_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_days(
    root: Path,
    today: datetime.date,
    ca_file: str,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
) -> list[DayVerdict]:
    """Every closed day in [first, last]: the token on the manifest, then each file's hash."""
    folders = day_folders(root)
    chosen = [
        day
        for day in closed_days(folders, today)
        if (first is None or day >= first) and (last is None or day <= last)
    ]
    verdicts = [verify_day(day, folders[day], ca_file) for day in chosen]
    verdicts += [
        DayVerdict(day.isoformat(), 0, [f"missing day: no folder {root / day.isoformat()}"])
        for day in missing_days(folders, today)
        if (first is None or day >= first) and (last is None or day <= last)
    ]
    return sorted(verdicts, key=lambda verdict: verdict.day)


def verify_day(day: datetime.date, folder: Path, ca_file: str) -> DayVerdict:
    manifest, token = folder / MANIFEST, folder / TOKEN
    found = day_files(folder)
    if not manifest.exists():
        return DayVerdict(day.isoformat(), len(found), [f"unsealed: no {manifest}"])
    if not token.exists():
        return DayVerdict(day.isoformat(), len(found), [f"unsealed: no time stamp {token}"])
    try:
        recorded = parse_manifest(manifest.read_text())
        check_token(token, manifest, ca_file)
        when = stamped_at(token)
    except (ManifestUnreadable, TokenInvalid) as error:
        return DayVerdict(day.isoformat(), len(found), [f"{manifest}: {error}"])
    problems = compare(recorded, hash_files(folder, found))
    return DayVerdict(
        day.isoformat(),
        len(recorded),
        [f"{line.split(': ', 1)[0]}: {folder / line.split(': ', 1)[1]}"
         for line in problems.describe()],
        when,
    )  # fmt: skip


@dataclass(frozen=True)
class Pruned:
    day: str
    files: int
    bytes: int


def prune(root: Path, today: datetime.date, retention_days: int) -> list[Pruned]:
    """Delete the days older than the retention, each deletion logged; nothing younger."""
    removed = []
    for day in expired_days(day_folders(root), today, retention_days):
        folder = root / day.isoformat()
        files, size = len(list(folder.iterdir())), folder_bytes(folder)
        shutil.rmtree(folder)
        log.warning(
            "deleted day %s (%d files, %d bytes): older than the retention of %d days",
            day, files, size, retention_days,
        )  # fmt: skip
        removed.append(Pruned(day.isoformat(), files, size))
    return removed


@dataclass(frozen=True)
class Status:
    root: str
    days: int
    first_day: str | None
    last_sealed_day: str | None
    last_sealed_by_source: dict[str, str]
    unsealed_days: list[str]
    missing_days: list[str]
    used_bytes: int
    filesystem_bytes: int
    free_bytes: int
    retention_days: int
    projected_bytes: int
    """Used bytes per day kept, times the retention: what a full retention will take."""


def status(root: Path, today: datetime.date, retention_days: int) -> Status:
    folders = day_folders(root)
    closed = closed_days(folders, today)
    sealed = [day for day in closed if (folders[day] / TOKEN).exists()]
    by_source: dict[str, str] = {}
    for day in sealed:
        for name in day_files(folders[day]):
            by_source[name.removesuffix(".log")] = day.isoformat()
    used = sum(folder_bytes(folder) for folder in folders.values())
    disk = shutil.disk_usage(root if root.exists() else root.parent)
    return Status(
        root=str(root),
        days=len(folders),
        first_day=min(folders).isoformat() if folders else None,
        last_sealed_day=max(sealed).isoformat() if sealed else None,
        last_sealed_by_source=dict(sorted(by_source.items())),
        unsealed_days=[day.isoformat() for day in closed if day not in sealed],
        missing_days=[day.isoformat() for day in missing_days(folders, today)],
        used_bytes=used,
        filesystem_bytes=disk.total,
        free_bytes=disk.free,
        retention_days=retention_days,
        projected_bytes=used // len(folders) * retention_days if folders else 0,
    )


class NothingToVerify(DrError):
    """A verification that checked no day is not a pass."""
