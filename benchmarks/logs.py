"""Log-archive figures: sealing a day against sha256sum, verifying two years of chained days
against the unchained verification bimkit had before, and one evidence package.

    python benchmarks/logs.py [--size-mb 1024] [--runs 3] [--days 730]

Runs on this box, no lab needed: the TSA is bimkit's lab responder
(`openssl ts -reply`) on loopback, as in the unit tests; the DR host's copy of
the chain is a folder filled by the store's own code.

1. One day of `--size-mb` of logs in 17 source files (the example estate's
   hosts; one large, as a DC's is): `bimkit-logs seal` of that day (hash and
   scan every file, write the manifest, stamp its record in the chain) against
   `sha256sum` over the same files, alternating, page cache warm.
   Target: throughput >= 0.8x sha256sum's.
2. `--days` of sealed days (small files, a lease file each): `verify` of the
   whole chain against its DR copy (every link, every token at its stamp time,
   every file) against the unchained verification of the same days as bimkit
   did it before the chain (each day's token on its manifest, checked at
   today's time, its stamp time read with a second openssl, every file), both
   in this process. Target: at most 1.5x.
3. The evidence package for one address on the oldest day: the CLI's
   verification of the days concerned, then the package with every link to
   the newest record. Target: at most 5 s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bimkit.lab.tsa import make_tsa, server  # noqa: E402
from dr.config import TimeStampAuthority  # noqa: E402
from dr.logs.archive import (  # noqa: E402
    MANIFEST,
    compare,
    day_files,
    day_folders,
    hash_files,
    parse_manifest,
)
from dr.logs.evidence import build  # noqa: E402
from dr.logs.jobs import Archive, seal  # noqa: E402
from dr.logs.timestamp import stamp  # noqa: E402
from dr.logs.verification import verify  # noqa: E402
from tests.unit.log_archives import mirror  # noqa: E402

SOURCES = 17
ZONE = zoneinfo.ZoneInfo("Europe/Istanbul")
ADDRESS = "10.21.50.77"
OLD_TOKEN = "SHA256SUMS.tsr"
"""Where bimkit kept a day's token before the chain (the baseline's layout)."""


def write_day(folder: Path, size_mb: int) -> list[Path]:
    """One big file (a DC's) of a third, the rest shared by the other sources."""
    folder.mkdir(parents=True)
    total = size_mb * 1024 * 1024
    sizes = [total // 3] + [(total - total // 3) // (SOURCES - 1)] * (SOURCES - 1)
    line = b"2026-12-03T10:00:00+03:00 dc1 samba[812]: auth: user KAYAPINAR\\ayse.yilmaz ok\n"
    files = []
    for index, size in enumerate(sizes):
        path = folder / f"host{index:02d}.log"
        with path.open("wb") as handle:
            chunk = line * (1024 * 1024 // len(line))
            written = 0
            while written < size:
                handle.write(chunk[: size - written])
                written += min(len(chunk), size - written)
        files.append(path)
    return files


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def unchained_verify(root: Path, ca_file: str) -> int:
    """Verification as bimkit did it before the chain: each day on its own, its token
    checked at today's time and its stamp time read by a second openssl."""
    verified = 0
    for folder in day_folders(root).values():
        manifest, token = folder / MANIFEST, folder / OLD_TOKEN
        if not token.exists():
            continue
        recorded = parse_manifest(manifest.read_text())
        subprocess.run(["openssl", "ts", "-verify", "-data", str(manifest), "-in", str(token),
                        "-CAfile", ca_file], check=True, capture_output=True)  # fmt: skip
        text = subprocess.run(["openssl", "ts", "-reply", "-in", str(token), "-text"],
                              check=True, capture_output=True, text=True).stdout  # fmt: skip
        assert re.search(r"^Time stamp: ", text, re.MULTILINE)
        names = [name for name in day_files(folder) if name != OLD_TOKEN]
        assert not compare(recorded, hash_files(folder, names))
        verified += 1
    return verified


def one_day(work: Path, authority: TimeStampAuthority, size_mb: int, runs: int) -> None:
    day = datetime.date(2026, 12, 3)
    root = work / "archive"
    files = write_day(root / day.isoformat(), size_mb)
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    now = datetime.datetime(2026, 12, 4, 0, 15, tzinfo=ZONE)

    def sealing() -> None:
        shutil.rmtree(root / "chain", ignore_errors=True)
        (root / day.isoformat() / MANIFEST).unlink(missing_ok=True)
        for path in files:
            os.chmod(path, 0o640)
        report = seal(Archive(root, ZONE, "log1.bench", authority), now)
        assert [r.outcome for r in report.results] == ["sealed"], report

    def sha256sum() -> None:
        subprocess.run(["sha256sum", *map(str, files)], stdout=subprocess.DEVNULL, check=True)

    seals, sums = [], []
    for run in range(runs):
        order = (sealing, sha256sum) if run % 2 == 0 else (sha256sum, sealing)
        for action in order:
            (seals if action is sealing else sums).append(timed(action))
    seal_s, sum_s = statistics.median(seals), statistics.median(sums)
    print(f"seal one day, {size_mb} MB in {SOURCES} files: {seal_s:6.2f} s "
          f"({size_mb / seal_s:7.1f} MB/s), runs {[round(s, 2) for s in seals]}")  # fmt: skip
    print(f"sha256sum, same files:              {sum_s:6.2f} s "
          f"({size_mb / sum_s:7.1f} MB/s), runs {[round(s, 2) for s in sums]}")  # fmt: skip
    print(f"throughput vs sha256sum:            {sum_s / seal_s:6.2f}x  (target >= 0.8x)")
    shutil.rmtree(root)


def two_years(work: Path, authority: TimeStampAuthority, days: int) -> None:
    today = datetime.datetime.now(ZONE).date()
    root = work / "years"
    first = today - datetime.timedelta(days)
    for offset in range(days):
        day = first + datetime.timedelta(offset)
        folder = root / day.isoformat()
        folder.mkdir(parents=True)
        for index in range(SOURCES):
            (folder / f"host{index:02d}.log").write_text(f"day {offset} host {index}\n")
        given = datetime.datetime.combine(day, datetime.time(9), ZONE)
        (folder / "dc1.leases").write_text(
            f"{given.isoformat()} dc1 bimkit-dhcp: event=commit address={ADDRESS} "
            f"mac=52:54:00:00:{offset // 256:02x}:{offset % 256:02x} hostname=pc{offset} "
            f"start={int(given.timestamp())} valid=28800\n")  # fmt: skip
    archive = Archive(root, ZONE, "log1.bench", authority)
    sealing = timed(lambda: seal(archive, datetime.datetime.now(datetime.UTC)))
    copy = mirror(archive, work / "copy")
    # The same days as the old layout had them: a token on each day's manifest.
    for folder in day_folders(root).values():
        (folder / OLD_TOKEN).write_bytes(stamp(authority, folder / MANIFEST))
    print(f"seal {days} days into the chain (a TSA round trip each): {sealing:6.1f} s")

    def chained() -> None:
        result = verify(root, ZONE, datetime.datetime.now(datetime.UTC), copy)
        # The baseline's extra token files count as extra files here: only those may differ.
        assert not result.chain_problems and all(
            all(p.startswith("extra: ") and p.endswith(OLD_TOKEN) for p in d.problems)
            for d in result.days) and len(result.days) == days  # fmt: skip

    old = [timed(lambda: unchained_verify(root, authority.ca_file)) for _ in range(2)]
    new = [timed(chained) for _ in range(2)]
    old_s, new_s = min(old), min(new)
    print(f"verify {days} days, unchained (before):  {old_s:6.1f} s "
          f"({old_s / days * 1000:.0f} ms per day)")  # fmt: skip
    print(f"verify {days} days, chained, vs DR copy: {new_s:6.1f} s "
          f"({new_s / days * 1000:.0f} ms per day)")  # fmt: skip
    print(f"chained vs unchained:                  {new_s / old_s:6.2f}x  (target <= 1.5x)")
    for folder in day_folders(root).values():
        (folder / OLD_TOKEN).unlink()

    moment = datetime.datetime.combine(first, datetime.time(9, 30), ZONE)

    def package() -> int:
        now = datetime.datetime.now(datetime.UTC)
        since = (moment - datetime.timedelta(seconds=28800)).date()
        checked = verify(root, ZONE, now, copy, since, moment.date() + datetime.timedelta(1))
        made = build(archive, ADDRESS, moment, 28800, "tr", now, checked)
        return len(made.archive)

    size = package()
    seconds = min(timed(package) for _ in range(3))
    print(f"evidence package, oldest of {days} days:  {seconds:6.2f} s, {size / 1e6:.1f} MB, "
          f"{days} links (target <= 5 s)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=730)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-logs-", dir="/var/tmp") as scratch:
        work = Path(scratch)
        tsa = make_tsa(work / "tsa")
        http = server(tsa, "127.0.0.1", 0)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        authority = TimeStampAuthority(
            f"http://127.0.0.1:{http.server_address[1]}/", str(tsa.ca_file)
        )
        try:
            one_day(work, authority, arguments.size_mb, arguments.runs)
            two_years(work, authority, arguments.days)
        finally:
            http.shutdown()
            http.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
