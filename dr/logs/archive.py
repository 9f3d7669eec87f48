"""The archive's days: which exist, which are closed, their manifests and how to check them.

Pure apart from reading and hashing files. A day is closed once the time zone's
date has moved past it; only closed days are sealed or pruned. A day's folder
holds `<source>.log` (each host's syslog, named by its address), `<dhcp
server>.leases` (the lease events the DHCP servers sent on their own channel)
and, once sealed, SHA256SUMS.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "SHA256SUMS"
SYSLOG_SUFFIX = ".log"
LEASES_SUFFIX = ".leases"
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def day_folders(root: Path) -> dict[datetime.date, Path]:
    """Every `YYYY-MM-DD` folder under `root` by its date (other names are ignored)."""
    days: dict[datetime.date, Path] = {}
    if not root.is_dir():
        return days
    for entry in root.iterdir():
        if entry.is_dir() and DAY_PATTERN.match(entry.name):
            try:
                days[datetime.date.fromisoformat(entry.name)] = entry
            except ValueError:
                continue  # 2026-13-45: not a day
    return dict(sorted(days.items()))


def closed_days(days: Iterable[datetime.date], today: datetime.date) -> list[datetime.date]:
    return sorted(day for day in days if day < today)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same date `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def expired_days(
    days: Iterable[datetime.date], today: datetime.date, years: int
) -> list[datetime.date]:
    """Days older than the same date `years` calendar years before `today`."""
    oldest_kept = years_before(today, years)
    return sorted(day for day in days if day < oldest_kept)


def day_end(day: datetime.date, zone: datetime.tzinfo) -> datetime.datetime:
    """Midnight after `day` in the archive's time zone: when the day closes."""
    return datetime.datetime.combine(day + datetime.timedelta(1), datetime.time(), zone)


def day_files(folder: Path) -> list[str]:
    """The day's log files (every regular file but the seal), by name."""
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and not entry.is_symlink() and entry.name != MANIFEST
    )


def lease_like(line: bytes) -> bool:
    """A syslog line that claims to be a lease record: the DHCP servers never send one there."""
    return b"address=" in line and (b"mac=" in line or b"event=" in line)


CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileScan:
    sha256: str
    lease_like_lines: int
    """Lines that look like a lease record: in a `.log` file, an attempt to forge one."""


def scan(path: Path) -> FileScan:
    """SHA-256 of the file, and its lease-like lines when it is a syslog file.

    One read: hashlib releases the GIL (files are read in parallel), and lines are
    looked at only in a chunk that has `address=` at all.
    """
    digest = hashlib.sha256()
    suspicious, look, carry = 0, path.name.endswith(SYSLOG_SUFFIX), b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if look:
                lines, _, rest = (carry + chunk).rpartition(b"\n")
                if b"address=" in lines:
                    suspicious += sum(map(lease_like, lines.split(b"\n")))
                carry = rest[-65536:]
    if look and lease_like(carry):
        suspicious += 1
    return FileScan(digest.hexdigest(), suspicious)


def scan_files(
    folder: Path, names: Iterable[str], workers: int | None = None
) -> dict[str, FileScan]:
    """name -> scan of every file, read in parallel."""
    names = list(names)
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) + 1)) as pool:
        return dict(zip(names, pool.map(lambda name: scan(folder / name), names), strict=True))


def hash_files(folder: Path, names: Iterable[str], workers: int | None = None) -> dict[str, str]:
    """name -> SHA-256 of every file, read in parallel."""
    return {name: found.sha256 for name, found in scan_files(folder, names, workers).items()}


def manifest_text(digests: dict[str, str]) -> str:
    """`sha256sum` format, sorted by name, so `sha256sum -c SHA256SUMS` checks a day by hand."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))


class ManifestUnreadable(ValueError):
    pass


def parse_manifest(text: str) -> dict[str, str]:
    digests: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _LINE.match(line)
        if match is None:
            raise ManifestUnreadable(f"line {number} is not `<sha256>  <file>`: {line[:80]!r}")
        digests[match[2]] = match[1]
    return digests


@dataclass(frozen=True)
class FileProblems:
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.altered or self.missing or self.extra)

    def describe(self) -> Iterator[str]:
        for label, names in (("altered", self.altered), ("missing", self.missing),
                             ("extra", self.extra)):  # fmt: skip
            for name in names:
                yield f"{label}: {name}"


def compare(recorded: dict[str, str], found: dict[str, str]) -> FileProblems:
    """What differs between a day's manifest and its files as they are now."""
    return FileProblems(
        altered=sorted(n for n in recorded.keys() & found.keys() if recorded[n] != found[n]),
        missing=sorted(recorded.keys() - found.keys()),
        extra=sorted(found.keys() - recorded.keys()),
    )


def folder_bytes(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())


def write_atomically(path: Path, data: bytes, mode: int = 0o440) -> None:
    """Write beside, then rename: a reader sees the old file or the whole new one."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(partial, mode)
    os.replace(partial, path)
