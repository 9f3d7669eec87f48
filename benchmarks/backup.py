"""Backup figures on the lab: bimkit's agent vs bare restic, restic vs sha256sum, dr status scaling.

    sudo .venv/bin/python benchmarks/backup.py [--size-mb 2048] [--runs 3]

Needs the lab up and deployed (`./dev main`). Everything runs on lab
machines, where Debian 13's restic is:

1. fs1 gets a data set of SIZE MB of mixed files (many small text files, a
   few large random ones). bimkit-backup (its pre-/post-hook machinery,
   init check, unlock, metrics) and a bare `restic backup` write the same
   data to two fresh repositories of the same kind (fs1's private space on
   the DR rest-server), full and then with no change; medians over --runs
   runs, the order alternating run by run. Target: ratio <= 1.10.
2. restic's full-backup throughput against `sha256sum` over the same files.
3. `bimkit-dr status` on dr1 over 50 repositories against over 1: the very
   first status, which asks restic for each master key (a key derivation
   each), then any later one, which reads every snapshot file itself with
   the kept keys. Target: <= 3x.
Leaves the benchmark repositories and data removed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA = "/srv/bench"
CREDENTIALS = "/etc/bimkit/restic"


def ssh(host: str, command: str) -> str:
    result = subprocess.run(
        [str(BIN / "bimkit"), "lab", "ssh", host, "--", command],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{host}: `{command[:120]}` failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def timed(host: str, command: str) -> float:
    """Wall time of `command` on `host`, measured there (no SSH overhead)."""
    clock = (
        "import subprocess, sys, time; start = time.monotonic(); "
        "subprocess.run(sys.argv[1], shell=True, check=True, stdout=subprocess.DEVNULL); "
        "print(time.monotonic() - start)"
    )
    return float(ssh(host, f"python3 -c {shlex.quote(clock)} {shlex.quote(command)}"))


def make_data(size_mb: int) -> None:
    small = max(1, size_mb // 4)  # a quarter in 4 KB text files, the rest in 64 MB files
    ssh(
        "fs1",
        f"rm -rf {DATA} && mkdir -p {DATA}/belgeler {DATA}/arsiv && cd {DATA} && "
        f"python3 -c 'import os,random; r=random.Random(7); "
        f'[open(f"belgeler/yazi-{{i:06d}}.txt","w").write(" ".join('
        f'r.choice(["belediye","zabita","fen","ruhsat","dilekce"]) '
        f"for _ in range(700))) for i in range({small * 256})]' && "
        f"for i in $(seq 1 {max(1, (size_mb - small) // 64)}); do "
        f"head -c 64M /dev/urandom > arsiv/kayit-$i.bin; done",
    )


def agent_config(repository_url_file: str) -> str:
    """A copy of fs1's agent configuration for one `bench` service into another repository."""
    script = (
        "import json; c = json.load(open('/etc/bimkit/backup.json')); "
        f"c['repository']['repository_file'] = '{repository_url_file}'; "
        f"c['services'] = {{'bench': {{'paths': ['{DATA}'], 'excludes': [], "
        "'pre_hooks': [], 'post_hooks': []}}; c['metrics_dir'] = '/tmp/bench-metrics'; "
        "json.dump(c, open('/root/bench-agent.json', 'w'))"
    )
    return f'python3 -c "{script}"'


def repository_file(name: str) -> str:
    """A repository URL file for fs1's private space `/fs1/<name>/` on the DR server."""
    path = f"/root/bench-{name}.url"
    ssh("fs1", f"umask 077; sed 's#/fs1/$#/fs1/{name}/#' {CREDENTIALS}/repository > {path}")
    return path


def backups(size_mb: int, runs: int) -> dict[str, float]:
    """Medians over `runs`, each into fresh repositories, the order alternating run by run."""
    make_data(size_mb)
    env = (
        f"RESTIC_PASSWORD_FILE={CREDENTIALS}/password RESTIC_CACERT=/etc/bimkit/dr-ca.pem "
        f"RESTIC_CACHE_DIR=/var/cache/bimkit/restic"
    )
    agent = "BIMKIT_BACKUP_CONFIG=/root/bench-agent.json bimkit-backup bench"
    timings: dict[str, list[float]] = {}
    for run in range(runs):
        bare_url = repository_file(f"bench-bare-{run}")
        agent_url = repository_file(f"bench-agent-{run}")
        ssh("fs1", f"{env} RESTIC_REPOSITORY_FILE={bare_url} restic init")
        ssh("fs1", agent_config(agent_url))
        ssh("fs1", f"rm -rf /tmp/bench-metrics && {agent.replace(' bench', ' --init')}")
        bare = f"{env} RESTIC_REPOSITORY_FILE={bare_url} restic backup --json --host fs1 {DATA}"
        order = [("agent", agent), ("bare", bare)]
        if run % 2:
            order.reverse()
        for phase in ("full", "unchanged"):
            for name, command in order:
                timings.setdefault(f"{name}_{phase}", []).append(timed("fs1", command))
    figures = {name: statistics.median(values) for name, values in timings.items()}
    figures["sha256sum"] = timed("fs1", f"find {DATA} -type f -print0 | xargs -0 sha256sum")
    return figures


def dr_status(count: int) -> tuple[float, float]:
    """bimkit-dr status over `count` repositories of one snapshot each (made once)."""
    folder = "/root/bench-dr"
    hosts = [f"bench-{n:02d}" for n in range(count)]
    ssh("dr1", f"mkdir -p {folder} && chmod 700 {folder}")
    admin = ssh("dr1", f"sed 's#/dc1/$##' {CREDENTIALS}/dc1.repository")
    for host in hosts:
        ssh(
            "dr1",
            f"test -e {folder}/{host}.repository || {{ umask 077; "
            f"echo '{admin}/{host}/' > {folder}/{host}.repository; "
            f"cp {CREDENTIALS}/dc1.password {folder}/{host}.password; "
            f"RESTIC_REPOSITORY_FILE={folder}/{host}.repository "
            f"RESTIC_PASSWORD_FILE={folder}/{host}.password sh -c "
            f"'restic init -q && restic backup -q --host {host} --tag service=bench "
            f"/etc/hostname'; }}",
        )
    config = {
        "admin_url": "unused",
        "credentials_dir": folder,
        "cache_dir": "/var/cache/bimkit/restic-admin",
        "data_dir": "/srv/restic",
        "master_keys": f"{folder}/master-keys",
        "repositories": {h: {"bench": {"rpo_seconds": 86400, "retention": {}}} for h in hosts},
    }
    ssh("dr1", f"echo '{json.dumps(config)}' > {folder}/dr-{count}.json")
    status = f"BIMKIT_DR_CONFIG={folder}/dr-{count}.json bimkit-dr status"
    ssh("dr1", f"rm -rf {folder}/master-keys")
    cold = timed("dr1", status)
    return cold, timed("dr1", status)


def cleanup() -> None:
    ssh("fs1", f"rm -rf {DATA} /root/bench-* /tmp/bench-metrics")
    ssh("dr1", "rm -rf /root/bench-dr /srv/restic/bench-* /srv/restic/fs1/bench-*")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    size = arguments.size_mb
    try:
        figures = backups(size, arguments.runs)
        one, fifty = dr_status(1), dr_status(50)
    finally:
        cleanup()
    print(
        f"data set: {size} MB on fs1, repositories on dr1's rest-server (TLS, append-only); "
        f"medians of {arguments.runs} runs"
    )
    full = figures["agent_full"] / figures["bare_full"]
    unchanged = figures["agent_unchanged"] / figures["bare_unchanged"]
    print(
        f"full backup:      bimkit {figures['agent_full']:.1f} s, bare restic "
        f"{figures['bare_full']:.1f} s, ratio {full:.2f} (target <= 1.10)"
    )
    print(
        f"no-change backup: bimkit {figures['agent_unchanged']:.1f} s, bare restic "
        f"{figures['bare_unchanged']:.1f} s, ratio {unchanged:.2f} (target <= 1.10)"
    )
    print(
        f"throughput:       restic {size / figures['bare_full']:.0f} MB/s, sha256sum "
        f"{size / figures['sha256sum']:.0f} MB/s, ratio "
        f"{figures['sha256sum'] / figures['bare_full']:.2f}"
    )
    for label, index in (("first ever, restic opens each", 0), ("master keys kept", 1)):
        print(
            f"dr status ({label}): 1 repository {one[index]:.2f} s, 50 repositories "
            f"{fifty[index]:.2f} s, ratio {fifty[index] / one[index]:.1f} (target <= 3)"
        )


if __name__ == "__main__":
    main()
