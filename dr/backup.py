"""Back up one protected service of this host to the DR repository with restic.

    bimkit-backup SERVICE          run by bimkit-backup@SERVICE.service
    bimkit-backup --init           create the host's repository unless it exists

Reads /etc/bimkit/backup.json (dr.config.BackupConfig, written by the backup_agent role): runs
the service's pre-hooks (application-consistent copies into its staging
path), creates the host's repository if there is none, runs `restic backup`
with the service's paths and excludes, then its post-hooks, and writes
Prometheus textfile metrics for node_exporter whether it succeeded or not.
After a failed or first run, the repository is created if absent and stale
locks are removed first (`restic unlock` removes only stale locks). Any failure exits non-zero,
which fails the unit and starts the notification unit.

Secrets stay in root-only files and the environment; nothing printed here
contains them (bimkit's restic runner masks restic's own messages).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
from typing import Any

from dr import restic
from dr.config import BackupConfig, ConfigInvalid, ServiceBackup, load
from dr.paths import BACKUP_CONFIG


class BackupFailed(Exception):
    """The run failed; the message is the agent's own last line (the unit's journal shows it)."""


def log(message: str) -> None:
    print(f"bimkit-backup: {message}", flush=True)


def metrics_file(directory: str, service: str) -> str:
    return os.path.join(directory, f"bimkit_backup_{service.replace('-', '_')}.prom")


def write_metrics(directory: str, service: str, values: dict[str, tuple[str, float]]) -> None:
    """node_exporter's textfile collector reads *.prom; written atomically."""
    os.makedirs(directory, exist_ok=True)
    lines = []
    for name, (help_text, value) in values.items():
        metric = f"bimkit_backup_{name}"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge",
                  f'{metric}{{service="{service}"}} {value}']  # fmt: skip
    path = metrics_file(directory, service)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def previous(directory: str, service: str, metric: str) -> float | None:
    """A figure of the previous run, from its metrics file (None before the first run)."""
    try:
        with open(metrics_file(directory, service), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(f"bimkit_backup_{metric}{{"):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return None


def previous_run_succeeded(directory: str, service: str) -> bool:
    return previous(directory, service, "exit_code") == 0


def run_hooks(kind: str, commands: list[str], service: str) -> None:
    for command in commands:
        log(f"{kind} for {service}: {command}")
        finished = subprocess.run(["/bin/sh", "-c", command], check=False)
        if finished.returncode != 0:
            raise BackupFailed(f"{kind} `{command}` for {service} on {socket.gethostname()} "
                               f"exited {finished.returncode}")  # fmt: skip


def reachable(url: str, attempts: int = 3, timeout: float = 10) -> bool:
    """restic retries an unreachable server for up to 15 minutes; ask the socket first."""
    address = urllib.parse.urlsplit(url.partition(":")[2])  # rest:https://... or s3:https://...
    port = address.port or (80 if address.scheme == "http" else 443)
    for attempt in range(attempts):
        try:
            socket.create_connection((address.hostname, port), timeout).close()
            return True
        except OSError as error:
            log(f"DR repository {address.hostname}:{port} unreachable ({error}); "
                f"attempt {attempt + 1} of {attempts}")  # fmt: skip
            time.sleep(5)
    return False


def backup(
    repository: restic.Repository, service: str, policy: ServiceBackup, host: str,
    clean_before: bool,
) -> restic.Result:  # fmt: skip
    arguments = ["--host", host, "--tag", f"service={service}"]
    for pattern in policy.excludes:
        arguments += ["--exclude", pattern]
    arguments += policy.paths
    if not clean_before:
        # A run of this host killed midway leaves its lock; `unlock` removes only stale
        # locks (this host's, of processes gone), which append-only mode allows.
        restic.run(repository, "unlock")
    try:
        return restic.run(repository, "backup", *arguments)
    except restic.RepositoryLocked:
        log("the repository is locked; removing stale locks only, then trying once more")
        restic.run(repository, "unlock")
        return restic.run(repository, "backup", *arguments)


def init(config: BackupConfig) -> int:
    repository = restic.from_access(config.repository)
    created = restic.init(repository)
    log(f"{'created' if created else 'already there'}: {repository.url}")
    return 0


def run(config: BackupConfig, service: str) -> int:
    """One backup of `service`, with its hooks and metrics; BackupFailed says why not."""
    if service not in config.services:
        raise BackupFailed(f"{service} is not a protected service of this host "
                           f"({', '.join(sorted(config.services))})")  # fmt: skip
    policy = config.services[service]
    repository = restic.from_access(config.repository)
    metrics = config.metrics_dir
    started = time.time()
    exit_code, summary = 1, {}
    try:
        if not reachable(repository.url):
            raise BackupFailed(f"{service} on {config.host}: the DR repository "
                               f"{repository.url} cannot be reached; no backup made")  # fmt: skip
        run_hooks("pre-hook", policy.pre_hooks, service)
        # restic backs up what exists and only warns about the rest: a policy path that
        # is gone would make a snapshot without the data. It is a failure here.
        missing = [path for path in policy.paths if not os.path.lexists(path)]
        if missing:
            raise BackupFailed(f"{service} on {config.host}: {', '.join(missing)} does not "
                               "exist; no backup made")  # fmt: skip
        # After a clean run the repository exists and holds no stale lock of ours;
        # skipping both checks keeps an unchanged backup as quick as bare restic.
        clean_before = previous_run_succeeded(metrics, service)
        if not clean_before and restic.init(repository):
            log(f"created the repository {repository.url}")
        result = backup(repository, service, policy, config.host, clean_before)
        summary = restic.backup_summary(result)
        run_hooks("post-hook", policy.post_hooks, service)
        exit_code = 0
        log(f"{service}: snapshot {summary['snapshot_id'][:8]}, "
            f"{summary.get('files_new', 0)} new and {summary.get('files_changed', 0)} changed "
            f"files, {summary.get('data_added', 0)} bytes added")  # fmt: skip
    except restic.ResticError as error:
        exit_code = error.exit_code
        raise BackupFailed(f"{service} on {config.host}: {error}") from None
    finally:
        finished = time.time()
        write_metrics(metrics, service, metric_values(metrics, service, started, finished,
                                                      exit_code, summary))  # fmt: skip
    return 0


def metric_values(
    metrics: str, service: str, started: float, finished: float, exit_code: int,
    summary: dict[str, Any],
) -> dict[str, tuple[str, float]]:  # fmt: skip
    last_success = (
        finished if exit_code == 0 else previous(metrics, service, "last_success_timestamp_seconds")
    )
    return {
        "last_run_timestamp_seconds": ("start of the last run", int(started)),
        "last_success_timestamp_seconds": ("end of the last successful run",
                                           int(last_success or 0)),
        "duration_seconds": ("length of the last run", round(finished - started, 3)),
        "exit_code": ("exit code of the last run (0: success)", exit_code),
        "bytes_added": ("bytes the last run added to the repository",
                        summary.get("data_added", 0)),
        "files": ("files in the last snapshot", summary.get("total_files_processed", 0)),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        config = load(BackupConfig, os.environ.get("BIMKIT_BACKUP_CONFIG", BACKUP_CONFIG))
        if arguments[0] == "--init":
            return init(config)
        return run(config, arguments[0])
    except (BackupFailed, ConfigInvalid, restic.ResticError) as error:
        print(f"bimkit-backup: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
