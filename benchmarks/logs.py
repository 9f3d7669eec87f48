"""Log-archive figures: sealing a day of logs vs sha256sum, and verifying a year of tokens.

    python benchmarks/logs.py [--size-mb 1024] [--runs 3] [--days 365]

Runs on this box, no lab needed: the TSA is bimkit's lab responder
(`openssl ts -reply`) on loopback, as in the unit tests.

1. One day of `--size-mb` of logs in 17 source files (the example estate's
   hosts; one large, as a DC's is): `bimkit-logs seal` of that day (hash
   every file, write the manifest, get and check a token) against
   `sha256sum` over the same files, alternating, page cache warm.
   Target: throughput >= 0.8x sha256sum's. (Python's hashlib is OpenSSL's
   SHA-256, which uses the CPU's SHA extensions, and bimkit hashes a day's
   files on every core; Debian 12's coreutils sha256sum does neither.)
2. A year of sealed days (small files): `verify` of every day (token
   chain check and every file's hash), in seconds.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bimkit.lab.tsa import make_tsa, server  # noqa: E402
from dr.config import TimeStampAuthority  # noqa: E402
from dr.logs.archive import MANIFEST, TOKEN  # noqa: E402
from dr.logs.jobs import seal_day, verify_days  # noqa: E402

SOURCES = 17


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


def timed(action: object) -> float:
    started = time.monotonic()
    action()  # type: ignore[operator]
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
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
            day = work / "archive" / "2026-12-03"
            files = write_day(day, arguments.size_mb)
            subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)

            def seal() -> None:
                for name in (MANIFEST, TOKEN):
                    (day / name).unlink(missing_ok=True)
                for path in files:
                    os.chmod(path, 0o640)
                result = seal_day(datetime.date(2026, 12, 3), day, authority)
                assert result.outcome == "sealed", result

            def sha256sum() -> None:
                subprocess.run(["sha256sum", *map(str, files)], stdout=subprocess.DEVNULL,
                               check=True)  # fmt: skip

            seals, sums = [], []
            for run in range(arguments.runs):
                order = (seal, sha256sum) if run % 2 == 0 else (sha256sum, seal)
                for action in order:
                    (seals if action is seal else sums).append(timed(action))
            seal_s, sum_s = statistics.median(seals), statistics.median(sums)
            mb = arguments.size_mb
            print(f"seal one day, {mb} MB in {SOURCES} files: {seal_s:6.2f} s "
                  f"({mb / seal_s:7.1f} MB/s), runs {[round(s, 2) for s in seals]}")  # fmt: skip
            print(f"sha256sum, same files:              {sum_s:6.2f} s "
                  f"({mb / sum_s:7.1f} MB/s), runs {[round(s, 2) for s in sums]}")  # fmt: skip
            print(f"throughput vs sha256sum:            {sum_s / seal_s:6.2f}x  (target >= 0.8x)")
            shutil.rmtree(work / "archive")

            year = work / "year"
            first = datetime.date(2025, 12, 3)
            started = time.monotonic()
            for offset in range(arguments.days):
                folder = year / (first + datetime.timedelta(offset)).isoformat()
                folder.mkdir(parents=True)
                for index in range(SOURCES):
                    (folder / f"host{index:02d}.log").write_text(f"day {offset} host {index}\n")
                seal_day(first + datetime.timedelta(offset), folder, authority)
            sealing = time.monotonic() - started
            today = first + datetime.timedelta(arguments.days)
            started = time.monotonic()
            verdicts = verify_days(year, today, str(tsa.ca_file))
            verifying = time.monotonic() - started
            assert len(verdicts) == arguments.days and all(v.ok for v in verdicts)
            print(f"seal {arguments.days} days (TSA round trip each): {sealing:6.1f} s")
            print(f"verify {arguments.days} days' tokens and files:   {verifying:6.1f} s "
                  f"({verifying / arguments.days * 1000:.0f} ms per day)")  # fmt: skip
        finally:
            http.shutdown()
            http.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
