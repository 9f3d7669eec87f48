"""Restore-drill figures on the lab: the DC drill's RTO, checksum verification vs sha256sum.

    sudo .venv/bin/python benchmarks/drill.py [--runs 3] [--size-mb 1024]

Needs the lab up and deployed (`./dev main`) with a backup of dc1 at the DR
site (`BIMKIT_LAB=1 bimkit dr backup --host dc1`). On dr1:

1. `bimkit-drill run --service dc1` --runs times after one untimed drill
   that builds the drill image: the RTO each drill measured (restore start
   -> DC verified). Target: under 3 minutes.
2. bimkit's checksum verification (dr.manifest.verify, as the
   file-shares drill runs it) against `sha256sum` over the same generated
   files (a quarter in 4 KB text files, the rest in 64 MB files), the order
   alternating. Target: throughput >= 0.8x sha256sum's.
"""

from __future__ import annotations

import argparse
import json
import statistics

from backup import ssh, timed  # benchmarks/backup.py, beside this script

DATA = "/var/tmp/bench-verify"
LIBRARY = "/usr/local/lib/bimkit/current"
"""The host runtime as roles/dr_runtime installs it."""


def drill_rto(runs: int) -> list[float]:
    ssh("dr1", "bimkit-drill run --service dc1 >/dev/null 2>&1 || true")  # builds the image
    figures = []
    for _ in range(runs):
        [result] = json.loads(ssh("dr1", "bimkit-drill run --service dc1 2>/dev/null"))["results"]
        if result["status"] != "OK":
            raise SystemExit(f"the DC drill failed: {result.get('error') or result['checks']}")
        figures.append(result["rto_achieved_seconds"])
    return figures


def verification(size_mb: int, runs: int) -> tuple[float, float]:
    small = max(1, size_mb // 4)
    ssh(
        "dr1",
        f"rm -rf {DATA} && mkdir -p {DATA}/belgeler {DATA}/arsiv && cd {DATA} && "
        f'python3 -c \'import os; [open(f"belgeler/yazi-{{i:06d}}.txt","wb").write('
        f"os.urandom(4096)) for i in range({small * 256})]' && "
        f"for i in $(seq 1 {max(1, (size_mb - small) // 64)}); do "
        f"head -c 64M /dev/urandom > arsiv/kayit-$i.bin; done && "
        "bimkit-manifest write /var/tmp/bench-manifest.json "
        f"{DATA} >/dev/null",
    )
    verify = (
        f"PYTHONPATH={LIBRARY} python3 -c 'import json, sys; from dr import manifest; "
        'm = json.load(open("/var/tmp/bench-manifest.json")); r = manifest.verify(m, "/"); '
        "sys.exit(not (r.passed() and r.checked == r.listed))'"
    )
    baseline = f"find {DATA} -type f -print0 | xargs -0 sha256sum > /dev/null"
    ours, theirs = [], []
    for run in range(runs):
        order = [(ours, verify), (theirs, baseline)]
        for figures, command in order if run % 2 == 0 else reversed(order):
            figures.append(timed("dr1", command))
    ssh("dr1", f"rm -rf {DATA} /var/tmp/bench-manifest.json")
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=1024)
    arguments = parser.parse_args()
    rto = drill_rto(arguments.runs)
    ours, theirs = verification(arguments.size_mb, arguments.runs)
    print(
        f"DC drill RTO: median {statistics.median(rto):.0f} s over {len(rto)} drills "
        f"({', '.join(f'{value:.0f}' for value in rto)} s); target < 180 s"
    )
    size = arguments.size_mb
    print(
        f"checksum verification: bimkit {size / ours:.0f} MB/s, sha256sum {size / theirs:.0f} "
        f"MB/s over {size} MB; ratio {theirs / ours:.2f} (target >= 0.8)"
    )


if __name__ == "__main__":
    main()
