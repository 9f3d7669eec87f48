"""The DR host's admin jobs on every host's restic repository.

    bimkit-dr status [HOST...]     last snapshot per host and service against its RPO (JSON)
    bimkit-dr snapshots HOST       the host's snapshots (JSON)
    bimkit-dr forget [HOST...]     forget --prune by each service's retention
    bimkit-dr check [HOST...] [--subset N/M]
                                   restic check; by default reads this week's 1/13 of the
                                   data, so every pack is read at least once a quarter

Reads /etc/bimkit/dr.json (dr.config.DrConfig, written by the dr_repository role). Runs on
the DR host only: it reaches the repositories through the loopback-only
rest-server instance that may delete (bimkit-rest-admin), with the admin
credential; the hosts' own credential is append-only. Repositories are
queried in parallel. Exit 1 when any repository fails or any service
breaches its RPO.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import os
import sys
import zoneinfo
from collections.abc import Callable
from typing import Any, TypeVar

from dr import restic, snapshots
from dr.config import ConfigInvalid, DrConfig, ServiceRetention, load
from dr.paths import DR_CONFIG

CHECK_WEEKS = 13
T = TypeVar("T")
Row = dict[str, Any]


def master_key(config: DrConfig, host: str, fresh: bool = False) -> snapshots.MasterKey:
    """The repository's master key: from restic once (one key derivation), then from its file."""
    path = os.path.join(config.master_keys, f"{host}.json")
    if not fresh:
        try:
            with open(path, encoding="utf-8") as handle:
                return snapshots.MasterKey.from_json(json.load(handle))
        except (OSError, ValueError, KeyError):
            pass
    [document] = restic.run(
        restic.for_dr_host(config, host), "cat", "masterkey", "--no-lock"
    ).messages
    os.makedirs(config.master_keys, mode=0o700, exist_ok=True)
    temporary = f"{path}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(document, handle)
    os.replace(temporary, path)
    return snapshots.MasterKey.from_json(document)


def snapshots_of(config: DrConfig, host: str) -> list[dict[str, Any]]:
    """The snapshot list: from the repository's files on this host, else from restic.

    Opening a repository costs restic a key derivation (about a second of CPU);
    with the master key kept, reading snapshot files costs milliseconds. A key
    that no longer fits (the repository was made anew) is fetched again once.
    """
    folder = os.path.join(config.data_dir or "", host)
    if not config.data_dir or not os.path.isfile(os.path.join(folder, "config")):
        return restic.run(restic.for_dr_host(config, host), "snapshots", "--no-lock").messages
    try:
        return snapshots.snapshots(folder, master_key(config, host))
    except snapshots.Unreadable:
        return snapshots.snapshots(folder, master_key(config, host, fresh=True))


def host_status(config: DrConfig, host: str, now: datetime.datetime) -> list[Row]:
    services = config.repositories[host]

    def every_service(status: str, error: str) -> list[Row]:
        return [
            {"host": host, "service": service, "status": status, "error": error,
             "rpo_seconds": policy.rpo_seconds}
            for service, policy in services.items()
        ]  # fmt: skip

    try:
        found = snapshots_of(config, host)
    except restic.RepositoryMissing:
        return every_service("MISSING", "no repository yet: no backup has reached the DR site")
    except (restic.ResticError, snapshots.Unreadable) as error:
        return every_service("ERROR", str(error))
    return [service_status(host, service, policy, found, now)
            for service, policy in sorted(services.items())]  # fmt: skip


def service_status(
    host: str, service: str, policy: ServiceRetention, found: list[dict[str, Any]],
    now: datetime.datetime,
) -> Row:  # fmt: skip
    taken = [s for s in found if f"service={service}" in (s.get("tags") or [])]
    row: Row = {"host": host, "service": service, "rpo_seconds": policy.rpo_seconds,
                "snapshots": len(taken)}  # fmt: skip
    if not taken:
        return {**row, "status": "MISSING", "error": "no snapshot yet"}
    latest = max(taken, key=lambda s: restic.parse_time(s["time"]))
    taken_at = restic.parse_time(latest["time"])
    age = (now - taken_at).total_seconds()
    summary = latest.get("summary") or {}
    return {
        **row,
        "last_snapshot": taken_at.astimezone(now.tzinfo).isoformat(timespec="seconds"),
        "snapshot_id": latest["short_id"],
        "age_seconds": round(age),
        "size_bytes": summary.get("total_bytes_processed"),
        "files": summary.get("total_files_processed"),
        "status": "OK" if age <= policy.rpo_seconds else "BREACH",
    }


def in_parallel(hosts: list[str], job: Callable[[str], T]) -> dict[str, T]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(hosts, pool.map(job, hosts), strict=True))


def status(config: DrConfig, hosts: list[str]) -> int:
    # The estate's time zone, as every report and table shows times.
    now = datetime.datetime.now(zoneinfo.ZoneInfo(config.timezone))
    results = in_parallel(hosts, lambda host: host_status(config, host, now))
    rows = [row for host in hosts for row in results[host]]
    json.dump({"time": now.isoformat(timespec="seconds"), "services": rows}, sys.stdout, indent=1)
    print()
    return 0 if all(row["status"] == "OK" for row in rows) else 1


def forget(config: DrConfig, hosts: list[str]) -> int:
    def job(host: str) -> list[str]:
        done = []
        for service, policy in sorted(config.repositories[host].items()):
            keep = [f"--keep-{period}={count}"
                    for period, count in vars(policy.retention).items() if count]  # fmt: skip
            restic.run(restic.for_dr_host(config, host), "forget", "--tag", f"service={service}",
                       "--group-by", "host,tags", *keep, "--prune")  # fmt: skip
            done.append(service)
        return done

    return report(in_parallel(hosts, safely(job)), "forget --prune")


def check(config: DrConfig, hosts: list[str], subset: str) -> int:
    def job(host: str) -> str:
        # A run killed on a host leaves its lock behind; unlock removes only stale locks.
        restic.run(restic.for_dr_host(config, host), "unlock")
        restic.run(restic.for_dr_host(config, host), "check", f"--read-data-subset={subset}")
        return subset

    return report(in_parallel(hosts, safely(job)), f"check --read-data-subset={subset}")


def safely(job: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    def run(host: str) -> dict[str, Any]:
        try:
            return {"ok": True, "done": job(host)}
        except restic.ResticError as error:
            return {"ok": False, "error": str(error)}

    return run


def report(results: dict[str, dict[str, Any]], what: str) -> int:
    json.dump({"job": what, "repositories": results}, sys.stdout, indent=1)
    print()
    return 0 if all(result["ok"] for result in results.values()) else 1


def this_weeks_subset(today: datetime.date | None = None) -> str:
    """1/13 .. 13/13 by ISO week: 13 consecutive weeks read every pack once."""
    week = (today or datetime.date.today()).isocalendar()[1]
    return f"{(week - 1) % CHECK_WEEKS + 1}/{CHECK_WEEKS}"


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in ("status", "snapshots", "forget", "check"):
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        config = load(DrConfig, os.environ.get("BIMKIT_DR_CONFIG", DR_CONFIG))
    except ConfigInvalid as error:
        print(f"bimkit-dr: {error}", file=sys.stderr)
        return 1
    command, rest = arguments[0], arguments[1:]
    subset = this_weeks_subset()
    if "--subset" in rest:
        index = rest.index("--subset")
        subset = rest[index + 1]
        del rest[index : index + 2]
    unknown = [host for host in rest if host not in config.repositories]
    if unknown:
        print(f"bimkit-dr: no repository for {', '.join(unknown)} here "
              f"(known: {', '.join(sorted(config.repositories))})", file=sys.stderr)  # fmt: skip
        return 2
    hosts = rest or sorted(config.repositories)
    if command == "status":
        return status(config, hosts)
    if command == "snapshots":
        json.dump(snapshots_of(config, hosts[0]), sys.stdout, indent=1)
        print()
        return 0
    if command == "forget":
        return forget(config, hosts)
    return check(config, hosts, subset)


if __name__ == "__main__":
    sys.exit(main())
