"""`bimkit dr`: backups to the disaster-recovery centre, seen and driven from one place.

The agents and the DR host do the work (roles/backup_agent, roles/dr_repository);
these commands start them over SSH and show what they report.
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bimkit.cli.output import DataOption, console, load, stderr
from bimkit.errors import BimkitError
from bimkit.model.estate import Estate
from bimkit.remote import CommandResult, connected, estate_inventory
from roles.dr_repository.plan import DR_TOOL

app = typer.Typer(help="Backups at the disaster-recovery centre.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
HostsArgument = Annotated[
    list[str] | None, typer.Argument(help="Protected hosts (default: all).", show_default=False)
]


def _dr_host(estate: Estate) -> tuple[str, dict[str, Any]]:
    name = estate.dr_repository_host.name
    entries = dict(estate_inventory(estate)["linux"])
    if name not in entries:
        raise BimkitError(f"dr: the DR host {name} is not in the inventory (is it up in the lab?)")
    return name, entries[name]


def _on_dr_host(estate: Estate, *arguments: str) -> CommandResult:
    """Run bimkit-dr on the DR host; a clear error when it cannot be reached."""
    name, data = _dr_host(estate)
    with connected([(name, data)]) as session:
        if name in session.unreachable:
            raise BimkitError(
                f"dr: the DR host {name} ({data.get('ssh_hostname')}) cannot be reached over "
                f"SSH: {session.unreachable[name]}"
            )
        return session.run({name: shlex.join([DR_TOOL, *arguments])})[name]


def _report(result: CommandResult, what: str, estate: Estate) -> Any:
    """bimkit-dr's JSON, or its error naming the DR host."""
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        name = estate.dr_repository_host.name
        raise BimkitError(
            f"dr: {what} on {name} failed: {result.stderr.strip() or result.stdout.strip()}"
        ) from None
    return report


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


STATUS_STYLE = {"OK": "green", "BREACH": "bold red", "MISSING": "bold red", "ERROR": "bold red"}


@app.command()
def status(
    hosts: HostsArgument = None, data: DataOption = None, as_json: JsonOption = False
) -> None:
    """Last snapshot of every protected service against its RPO; exit 1 on any breach."""
    estate = load(data)
    result = _on_dr_host(estate, "status", *(hosts or []))
    report = _report(result, "bimkit-dr status", estate)
    rows = report["services"]
    if as_json:
        console.print_json(json.dumps(report))
    else:
        table = Table(title=f"DR repository status at {report['time']}", title_justify="left")
        for column in ("host", "service", "last snapshot", "age", "RPO", "size", "status"):
            table.add_column(column)
        for row in rows:
            size = row.get("size_bytes")
            table.add_row(
                row["host"],
                row["service"],
                row.get("last_snapshot", "-")[:19],
                _age(row.get("age_seconds")),
                _age(row["rpo_seconds"]),
                f"{size / 1e6:.1f} MB" if size else "-",
                f"[{STATUS_STYLE.get(row['status'], 'red')}]{row['status']}[/]",
            )
        console.print(table)
        for row in rows:
            if row.get("error"):
                stderr.print(f"{row['host']} {row['service']}: {row['error']}", markup=False)
    if not rows or any(row["status"] != "OK" for row in rows):
        raise typer.Exit(1)


@app.command()
def snapshots(host: str, data: DataOption = None) -> None:
    """The snapshots in HOST's repository."""
    estate = load(data)
    result = _on_dr_host(estate, "snapshots", host)
    listed = _report(result, f"bimkit-dr snapshots {host}", estate)
    table = Table(title=f"{host}: snapshots", title_justify="left")
    for column in ("id", "time", "tags", "paths"):
        table.add_column(column)
    for snapshot in listed:
        table.add_row(
            snapshot["short_id"],
            snapshot["time"][:19],
            ", ".join(snapshot.get("tags") or []),
            ", ".join(snapshot["paths"]),
        )
    console.print(table)


def _job(command: str, hosts: list[str] | None, data: DataOption, extra: list[str]) -> None:
    estate = load(data)
    result = _on_dr_host(estate, command, *(hosts or []), *extra)
    report = _report(result, f"bimkit-dr {command}", estate)
    table = Table(title=report["job"], title_justify="left")
    for column in ("host", "result", "detail"):
        table.add_column(column)
    for host, outcome in sorted(report["repositories"].items()):
        ok = outcome["ok"]
        detail = outcome.get("error") or ", ".join(map(str, outcome.get("done") or []))
        table.add_row(host, "[green]OK[/]" if ok else "[bold red]FAIL[/]", detail)
    console.print(table)
    if not all(outcome["ok"] for outcome in report["repositories"].values()):
        raise typer.Exit(1)


@app.command()
def check(
    hosts: HostsArgument = None,
    data: DataOption = None,
    subset: Annotated[
        str | None, typer.Option(help="Data to read, e.g. 1/13 or 100%; default: this week's")
    ] = None,
) -> None:
    """restic check on the DR host; exit 1 when a repository is damaged."""
    _job("check", hosts, data, ["--subset", subset] if subset else [])


@app.command()
def forget(hosts: HostsArgument = None, data: DataOption = None) -> None:
    """forget --prune by each service's retention, on the DR host."""
    _job("forget", hosts, data, [])


@app.command()
def backup(
    host: Annotated[list[str] | None, typer.Option("--host", help="Back up this host.")] = None,
    all_hosts: Annotated[bool, typer.Option("--all", help="Back up every protected host.")] = False,
    data: DataOption = None,
) -> None:
    """Start the backup agents now (their systemd units) and show a summary."""
    estate = load(data)
    protected = {h.name: list(h.protected_services) for h in estate.protected_hosts}
    chosen = sorted(protected) if all_hosts else sorted(set(host or []))
    if not chosen:
        raise BimkitError("dr backup: name hosts with --host, or use --all")
    unknown = [name for name in chosen if name not in protected]
    if unknown:
        raise BimkitError(f"dr backup: {', '.join(unknown)} has no protected service")
    entries = dict(estate_inventory(estate)["linux"])
    rows = []
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    )
    reachable = [(name, entries[name]) for name in chosen if name in entries]
    with connected(reachable) as session, progress:
        task = progress.add_task(f"backing up {len(chosen)} host(s)", total=None)
        started = time.monotonic()
        commands = {}
        for name in chosen:
            units = " ".join(f"bimkit-backup@{service}.service" for service in protected[name])
            journal = "journalctl -o cat --no-pager -n 3 --since=-3600s " + " ".join(
                f"-u bimkit-backup@{service}.service" for service in protected[name]
            )
            commands[name] = f"systemctl start {units}; status=$?; {journal}; exit $status"
        results = session.run(commands)
        for name in chosen:
            if name not in results:
                results[name] = CommandResult(False, "", "cannot be reached over SSH")
        progress.update(task, description=f"done in {time.monotonic() - started:.0f} s")
    for name in chosen:
        result = results[name]
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        rows.append((name, ", ".join(protected[name]), result.ok, lines[-1] if lines else ""))
    table = Table(title="Backups", title_justify="left")
    for column in ("host", "services", "result", "last message"):
        table.add_column(column)
    for name, services, ok, message in rows:
        table.add_row(name, services, "[green]OK[/]" if ok else "[bold red]FAILED[/]", message)
    console.print(table)
    if not all(ok for _, _, ok, _ in rows):
        raise typer.Exit(1)
