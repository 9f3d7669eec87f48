"""PBX figures on the lab: a deploy of 2,000 extensions and 50 queues, first and converged.

    sudo .venv/bin/python benchmarks/pbx.py [--people 2000] [--queues 50] [--runs 3]

Needs the lab up (`bimkit lab up`; pbx1 is deployed by the first run). Writes a
copy of the estate data with `--people` more staff (each with an extension,
spread over `--queues` call-centre queues) into a temporary folder and runs
`deploys/pbx.py` against pbx1 with it: the first run (rendering, writing and
reloading everything) and then `--runs` converged re-runs, which should change
nothing. Prints the seconds, the endpoints Asterisk reports, and the median
converged run against a bare pyinfra `true` on pbx1. Puts the estate's own
configuration back at the end.

Not measured yet: 100 concurrent calls through pbx1 with SIPp (issue 15).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from bimkit.sites import copy_estate_data  # noqa: E402


def pyinfra(deploy: str, data: Path) -> tuple[float, str]:
    env = {**os.environ, "BIMKIT_LAB": "1", "BIMKIT_DATA": str(data)}
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "pyinfra"), "inventory.py", deploy, "-y", "--limit", "pbx1"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return time.monotonic() - started, result.stdout + result.stderr


def changed(output: str) -> str:
    line = next(line for line in output.splitlines() if "Grand total" in line)
    return line.split()[3]


def big_estate(folder: Path, people: int, queues: int) -> Path:
    folder.mkdir(parents=True)
    copy_estate_data(REPO, folder)
    estate = yaml.safe_load((folder / "estate.yaml").read_text())
    estate["telephony"] = {
        "queues": {f"kuyruk-{n:02d}": {"strategy": "rrmemory"} for n in range(queues)}
        | {"beyaz-masa": {}}
    }
    (folder / "estate.yaml").write_text(yaml.safe_dump(estate, allow_unicode=True))
    directory = yaml.safe_load((folder / "directory/people.yaml").read_text())
    for n in range(people):
        directory["people"].append({
            "id": f"9{n:05d}", "given_name": "Personel", "family_name": f"Numara{n}",
            "department": "cagri-merkezi", "extension": 60000 + n,
            "queues": [f"kuyruk-{n % queues:02d}"],
        })  # fmt: skip
    (folder / "directory/people.yaml").write_text(yaml.safe_dump(directory, allow_unicode=True))
    return folder


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-pbx-") as scratch:
        data = big_estate(Path(scratch) / "estate", arguments.people, arguments.queues)
        try:
            first, output = pyinfra("deploys/pbx.py", data)
            print(f"first deploy, +{arguments.people} extensions, {arguments.queues} queues: "
                  f"{first:6.1f} s ({changed(output)} changed)")  # fmt: skip
            runs = [pyinfra("deploys/pbx.py", data) for _ in range(arguments.runs)]
            bare = [pyinfra("benchmarks/pyinfra_true.py", data)[0] for _ in range(arguments.runs)]
            converged = statistics.median(seconds for seconds, _ in runs)
            print(f"converged re-run, median of {arguments.runs}: {converged:6.2f} s "
                  f"(changed: {', '.join(changed(out) for _, out in runs)})")  # fmt: skip
            print(f"bare pyinfra `true` on pbx1, median:   {statistics.median(bare):6.2f} s")
            endpoints = subprocess.run(
                [str(BIN / "bimkit"), "lab", "ssh", "pbx1", "--",
                 "asterisk -rx 'pjsip show endpoints' | tail -n 2"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            print(f"Asterisk: {endpoints}")
        finally:
            pyinfra("deploys/pbx.py", REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
