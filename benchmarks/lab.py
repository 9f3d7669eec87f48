"""Lab figures: cold image build, warm `lab up`, memory per idle machine, deploy overhead.

    sudo .venv/bin/python benchmarks/lab.py [--skip-cold] [--runs 3] [--skip-double]

Targets: warm `lab up` of the example estate under 60 s; an idle machine as
booted under 64 MB. Memory is PSS (each shared page divided among the
processes sharing it), the figure that adds up to real use; RSS, which counts
shared libraries once per process, is printed beside it; after the deploy it
is shown per role, since a DC runs Samba and a workstation only the base.
The deploy figure is a converged `deploys/site.py` against a bare pyinfra run
of `server.shell true` on the same hosts, alternated run by run, as a ratio
of medians (target at most 5). Then the same converged deploy on twice the
hosts: the estate plus two more unit sites of six workstations each (made
with `bimkit site new` in a copy of the data), target at most 1.5 times the
time. Leaves the lab down when it started down.
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

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from bimkit.lab.plan import NETNS_PREFIX  # noqa: E402
from bimkit.lab.state import LabPaths, LabState  # noqa: E402
from bimkit.model.load import load_estate  # noqa: E402
from bimkit.sites import copy_estate_data  # noqa: E402
from dr.sandbox.image import ImageRecipe, ensure_image  # noqa: E402


def sh(*argv: str, env: dict[str, str] | None = None) -> float:
    """Run a command (it must succeed); return its wall time in seconds."""
    started = time.monotonic()
    subprocess.run(
        argv,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def cold_image_build() -> float:
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-", dir="/var/tmp") as cache:
        started = time.monotonic()
        ensure_image(Path(cache), ImageRecipe())
        return time.monotonic() - started


def memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def machine_memory(paths: LabPaths) -> dict[str, tuple[int, int]]:
    """Per machine: PSS and RSS of everything in its namespace plus its nspawn process."""
    state = LabState.load(paths)
    assert state is not None, "the lab is down"
    figures = {}
    for name in state.machines:
        pids = subprocess.run(
            ["ip", "netns", "pids", NETNS_PREFIX + name], capture_output=True, text=True, check=True
        ).stdout.split()
        nspawn = (paths.machines / name / "nspawn.pid").read_text().strip()
        totals = [memory_kib(int(pid)) for pid in {*pids, nspawn}]
        figures[name] = (sum(p for p, _ in totals), sum(r for _, r in totals))
    return figures


def print_memory(what: str, memory: dict[str, tuple[int, int]], target: str = "") -> None:
    pss = [p / 1024 for p, _ in memory.values()]
    rss = [r / 1024 for _, r in memory.values()]
    print(
        f"{what}: PSS mean {statistics.mean(pss):5.1f} MB (max {max(pss):.1f}), "
        f"RSS mean {statistics.mean(rss):5.1f} MB (max {max(rss):.1f}){target}"
    )


def memory_by_role(memory: dict[str, tuple[int, int]]) -> dict[str, dict[str, tuple[int, int]]]:
    """The machines grouped by what runs on them, e.g. `primary_dc`, `workstation`."""
    estate = load_estate(REPO)
    groups: dict[str, dict[str, tuple[int, int]]] = {}
    for name, figures in memory.items():
        roles = "+".join(sorted(str(role) for role in estate.hosts[name].roles))
        groups.setdefault(roles, {})[name] = figures
    return groups


def converged(env: dict[str, str], runs: int) -> tuple[float, float]:
    """Medians of a converged deploys/site.py and of bare pyinfra `true`, alternated."""
    pyinfra = str(BIN / "pyinfra")
    sh(pyinfra, "inventory.py", "deploys/site.py", "-y", env=env)  # converge first
    site, bare = [], []
    for _ in range(runs):
        site.append(sh(pyinfra, "inventory.py", "deploys/site.py", "-y", env=env))
        bare.append(sh(pyinfra, "inventory.py", "benchmarks/pyinfra_true.py", "-y", env=env))
    return statistics.median(site), statistics.median(bare)


def doubled_estate(folder: Path) -> Path:
    """The estate plus two unit sites of six workstations each: 24 Linux hosts, not 12."""
    copy_estate_data(REPO, folder)
    bimkit = str(BIN / "bimkit")
    for name, number in (("ek-bina-1", 6), ("ek-bina-2", 7)):
        sh(bimkit, "site", "new", name, "--number", str(number), "--title", name,
           "--workstations", "6", "--phones", "0", "--data", str(folder))  # fmt: skip
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold image build")
    parser.add_argument("--runs", type=int, default=3, help="deploy runs of each kind")
    parser.add_argument("--skip-double", action="store_true", help="skip the 24-host figure")
    args = parser.parse_args()
    paths = LabPaths.from_env()
    was_up = LabState.load(paths) is not None
    bimkit = str(BIN / "bimkit")

    if not args.skip_cold:
        print(f"cold image build (debootstrap trixie):  {cold_image_build():6.1f} s")

    sh(bimkit, "lab", "down")
    sh(bimkit, "lab", "up")  # warms the image and package caches
    sh(bimkit, "lab", "down")
    warm = sh(bimkit, "lab", "up")
    machines = len(LabState.load(paths).machines)  # type: ignore[union-attr]
    print(f"warm lab up, {machines} machines:          {warm:6.1f} s   (target < 60 s)")

    time.sleep(20)  # let boot-time jobs finish: idle means idle
    print_memory("idle machine, as booted", machine_memory(paths))

    lab_env = {"BIMKIT_LAB": "1"}
    sh(str(BIN / "pyinfra"), "inventory.py", "deploys/site.py", "-y", env=lab_env)
    time.sleep(20)
    for roles, memory in sorted(memory_by_role(machine_memory(paths)).items()):
        print_memory(f"idle, deployed: {roles:<28} ({len(memory):2d})", memory)
    site, bare = converged(lab_env, args.runs)
    hosts = len(LabState.load(paths).machines)  # type: ignore[union-attr]
    print(f"converged deploys/site.py, {hosts} hosts, median: {site:6.2f} s")
    print(f"bare pyinfra `true`, median:            {bare:6.2f} s")
    print(f"ratio site.py / bare:                   {site / bare:6.2f}   (target <= 5)")

    if not args.skip_double:
        with tempfile.TemporaryDirectory(prefix="bimkit-bench-data-") as scratch:
            data = doubled_estate(Path(scratch))
            sh(bimkit, "lab", "up", "--data", str(data))
            double_env = {**lab_env, "BIMKIT_DATA": str(data)}
            double, double_bare = converged(double_env, args.runs)
            doubled = len(LabState.load(paths).machines)  # type: ignore[union-attr]
            print(f"converged deploys/site.py, {doubled} hosts: {double:6.2f} s "
                  f"(bare `true` {double_bare:.2f} s)")  # fmt: skip
            print(f"growth {hosts} -> {doubled} hosts:          {double / site:6.2f}x   "
                  "(target <= 1.5)")  # fmt: skip

    if not was_up:
        sh(bimkit, "lab", "down")


if __name__ == "__main__":
    main()
