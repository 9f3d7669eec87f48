"""Log archives for unit tests: days of files, an Archive around them, the DR host's copy."""

from __future__ import annotations

import datetime
import io
import tarfile
import zoneinfo
from pathlib import Path

from dr.config import TimeStampAuthority
from dr.logs.chain import FOLDER, chain_files
from dr.logs.jobs import Archive
from dr.logs.store import receive

ZONE = zoneinfo.ZoneInfo("Europe/Istanbul")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def today() -> datetime.date:
    """As `bimkit-logs` sees it, so that the jobs and the fixtures agree on which days closed."""
    return now().astimezone(ZONE).date()


def day(days_ago: int) -> datetime.date:
    return today() - datetime.timedelta(days_ago)


def write_day(root: Path, when: datetime.date | str, files: dict[str, str]) -> Path:
    folder = root / str(when)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def archive_with_days(
    root: Path, authority: TimeStampAuthority, days_ago: tuple[int, ...] = (3, 2, 1, 0)
) -> Archive:
    for offset in days_ago:
        when = day(offset)
        write_day(
            root,
            when,
            {
                "dc1.log": f"{when} dc1 samba: started\n",
                "fs1.log": f"{when} fs1 smbd: share opened\n",
            },
        )
    return Archive(root, ZONE, "log1.ad.example", authority)


def mirror(archive: Archive, copy: Path) -> Path:
    """What the DR host keeps: every chain file it lacks, added through the store's own
    `receive` (dr.logs.store), as the log server's push over SSH does in the lab."""
    copy.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name in chain_files(archive.root / FOLDER):
            if not (copy / name).exists():
                tar.add(archive.root / FOLDER / name, arcname=name)
    said, refused = receive(copy, buffer.getvalue())
    assert not refused, said
    return copy


def make_writable(path: Path) -> None:
    path.chmod(0o640)
    path.parent.chmod(0o750)
