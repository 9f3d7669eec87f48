"""`bimkit dr`: backups to the disaster-recovery centre, seen and driven from one place.

The agents and the DR host do the work (roles/backup_agent, roles/dr_repository);
these commands start them over SSH and show what they report.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bimkit import s3
from bimkit.cli.output import DataOption, console, load, local_time, stderr
from bimkit.errors import BimkitError
from bimkit.inventory import estate_inventory
from bimkit.model.estate import Estate
from bimkit.remote import CommandResult, connected, run_on
from bimkit.secrets import SecretSpec, load_secrets
from dr.paths import AGENT, DR_TOOL, DRILL_TOOL

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


def _on_dr_host_tool(estate: Estate, tool: str, *arguments: str) -> CommandResult:
    """Run `tool` on the DR host; a clear error when it cannot be reached."""
    return run_on(_dr_host(estate), [tool, *arguments], "dr: the DR host")


def _on_dr_host(estate: Estate, *arguments: str) -> CommandResult:
    return _on_dr_host_tool(estate, DR_TOOL, *arguments)


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
    result = _on_dr_host(estate, "status", *_known(estate, hosts))
    report = _report(result, "bimkit-dr status", estate)
    rows = report["services"]
    if as_json:
        console.print_json(json.dumps(report))
    else:
        table = Table(
            title=f"DR repository status at {local_time(report['time'], estate)}",
            title_justify="left",
        )
        for column in ("host", "service", "last snapshot", "age", "RPO", "size", "status"):
            table.add_column(column)
        for row in rows:
            size = row.get("size_bytes")
            table.add_row(
                row["host"],
                row["service"],
                local_time(row.get("last_snapshot"), estate),
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
    result = _on_dr_host(estate, "snapshots", *_known(estate, [host]))
    listed = _report(result, f"bimkit-dr snapshots {host}", estate)
    table = Table(title=f"{host}: snapshots", title_justify="left")
    for column in ("id", "time", "tags", "paths"):
        table.add_column(column)
    for snapshot in listed:
        table.add_row(
            snapshot["short_id"],
            local_time(snapshot["time"], estate),
            ", ".join(snapshot.get("tags") or []),
            ", ".join(snapshot["paths"]),
        )
    console.print(table)


def _known(estate: Estate, hosts: list[str] | None) -> list[str]:
    """`hosts`, refused here, before any connection, when one has no repository."""
    protected = sorted(h.name for h in estate.protected_hosts)
    unknown = [name for name in hosts or [] if name not in protected]
    if unknown:
        raise BimkitError(
            f"dr: {', '.join(unknown)} has no repository at the DR site; "
            f"protected hosts: {', '.join(protected)}"
        )
    return list(hosts or [])


def _job(command: str, hosts: list[str] | None, data: DataOption, extra: list[str]) -> None:
    estate = load(data)
    result = _on_dr_host(estate, command, *_known(estate, hosts), *extra)
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


HostOption = Annotated[list[str] | None, typer.Option("--host", help="A protected host.")]
AllOption = Annotated[bool, typer.Option("--all", help="Every protected host.")]


def _protected_hosts(
    estate: Estate, hosts: list[str] | None, all_hosts: bool
) -> dict[str, list[str]]:
    """The chosen protected hosts and their services."""
    protected = {h.name: list(h.protected_services) for h in estate.protected_hosts}
    chosen = sorted(protected) if all_hosts else sorted(set(_known(estate, hosts)))
    if not chosen:
        raise BimkitError("dr: name hosts with --host, or use --all")
    return {name: protected[name] for name in chosen}


def _on_hosts(estate: Estate, commands: dict[str, str], what: str) -> dict[str, CommandResult]:
    """Each host's command in parallel, with a spinner; unreachable hosts fail with a reason."""
    entries = dict(estate_inventory(estate)["linux"])
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    )
    reachable = [(name, entries[name]) for name in commands if name in entries]
    with connected(reachable) as session, progress:
        task = progress.add_task(f"{what} on {len(commands)} host(s)", total=None)
        started = time.monotonic()
        results = session.run(commands)
        progress.update(task, description=f"{what}: done in {time.monotonic() - started:.0f} s")
    for name in commands:
        if name not in results:
            reason = session.unreachable.get(name, "not in the inventory (is it up?)")
            results[name] = CommandResult(False, "", f"{name} cannot be reached: {reason}")
    return results


def last_message(result: CommandResult) -> str:
    """The agent's own last line (it names the snapshot or the cause); systemd's
    "See systemctl status" line on stderr only when the agent said nothing."""
    for output in (result.stdout, result.stderr):
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return ""


def _summary(title: str, hosts: dict[str, list[str]], results: dict[str, CommandResult]) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("host", "services", "result", "last message"):
        table.add_column(column)
    for name, services in hosts.items():
        result = results[name]
        table.add_row(
            name,
            ", ".join(services),
            "[green]OK[/]" if result.ok else "[bold red]FAILED[/]",
            Text(last_message(result)),
        )
    console.print(table)
    if not all(results[name].ok for name in hosts):
        raise typer.Exit(1)


@app.command()
def backup(host: HostOption = None, all_hosts: AllOption = False, data: DataOption = None) -> None:
    """Start the backup agents now (their systemd units) and show a summary."""
    estate = load(data)
    hosts = _protected_hosts(estate, host, all_hosts)
    commands = {}
    for name, services in hosts.items():
        units = [f"bimkit-backup@{service}.service" for service in services]
        # The agent's own lines from this run, which name the snapshot or the cause.
        journal = (
            f"journalctl -o cat --no-pager --since=@$started {' '.join('-u ' + u for u in units)}"
            " | grep '^bimkit-backup: ' | tail -n 3"
        )
        commands[name] = (
            f"started=$(date +%s); systemctl start {' '.join(units)}; status=$?; "
            f"{journal}; exit $status"
        )
    _summary("Backups", hosts, _on_hosts(estate, commands, "backing up"))


@app.command()
def init(host: HostOption = None, all_hosts: AllOption = False, data: DataOption = None) -> None:
    """Create the hosts' repositories that do not exist yet, each with the host's credential."""
    estate = load(data)
    hosts = _protected_hosts(estate, host, all_hosts)
    results = _on_hosts(estate, {name: f"{AGENT} --init" for name in hosts}, "init")
    _summary("Repositories", hosts, results)


s3_app = typer.Typer(help="The S3 bucket at the DR site (dr_repository: s3).", no_args_is_help=True)
app.add_typer(s3_app, name="s3")


def _s3(data: DataOption) -> tuple[Any, str, Any]:
    estate = load(data)
    policy = s3.bucket_policy(estate)  # BimkitError when estate.yaml has no `dr_s3`
    endpoint = estate.config.dr_s3.endpoint if estate.config.dr_s3 else ""
    names = ("s3_access_key_id", "s3_secret_access_key")
    found = load_secrets([SecretSpec(name, "", "bimkit dr s3") for name in names])
    client = s3.client_for(estate, *(found.get(name) for name in names))
    return client, endpoint, policy


@s3_app.command()
def provision(data: DataOption = None) -> None:
    """Create the bucket or bring it to the policy: versioning, object lock, lifecycle."""
    client, endpoint, policy = _s3(data)
    done = s3.provision(client, endpoint, policy)
    for line in done or [f"bucket {policy.bucket} at {endpoint} already matches the policy"]:
        console.print(line, markup=False)


@s3_app.command()
def drift(data: DataOption = None) -> None:
    """Show how the bucket differs from the policy; exit 1 when it does."""
    client, endpoint, policy = _s3(data)
    found = s3.drift(client, endpoint, policy)
    for line in found or [f"bucket {policy.bucket} at {endpoint} matches the policy"]:
        console.print(line, markup=False)
    if found:
        raise typer.Exit(1)


@s3_app.command()
def policy(
    host: Annotated[str, typer.Argument(help="a protected host, or the DR host")],
    data: DataOption = None,
) -> None:
    """Print the IAM policy of HOST's own S3 user as JSON, for the S3 server's admin.

    A protected host may add to its own prefix and remove only its locks; the
    DR host's user runs retention and checks on every repository.
    """
    estate = load(data)
    bucket = s3.bucket_policy(estate).bucket
    if host == estate.dr_repository_host.name:
        document = s3.dr_jobs_policy(bucket)
    elif host in {protected.name for protected in estate.protected_hosts}:
        document = s3.host_policy(bucket, host)
    else:
        raise BimkitError(
            f"dr s3 policy: {host} is neither a protected host nor the DR host "
            f"{estate.dr_repository_host.name}"
        )
    print(json.dumps(document, indent=2))


ServiceOption = Annotated[
    list[str] | None, typer.Option("--service", help="A service or host (default: all).")
]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Report language: tr (default) or en.")
]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else _age(seconds)


@app.command()
def drill(
    service: ServiceOption = None,
    keep: Annotated[bool, typer.Option(help="Leave the sandbox for inspection.")] = False,
    lang: LangOption = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore drill on the DR host: restore, recover and verify each service in a sandbox.

    Measures RPO and RTO against the targets and writes the report (HTML,
    JSON, history) on the DR host; exit 1 when a service fails or misses one.
    """
    estate = load(data)
    arguments = [f"--service={name}" for name in service or []]
    arguments += ["--keep"] if keep else []
    arguments += [f"--lang={lang}"] if lang else []
    # On stderr, so that stdout stays the drill's JSON with --json.
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr
    )
    with progress:
        progress.add_task("restore drill on the DR host", total=None)
        result = _on_dr_host_tool(estate, DRILL_TOOL, "run", *arguments)
    document = _report(result, "bimkit-drill run", estate)
    if as_json:
        console.print_json(json.dumps(document))
    else:
        table = Table(
            title=f"Restore drill {document['drill_id']} at {local_time(document['time'], estate)}",
            title_justify="left",
        )
        for column in ("host", "service", "snapshot", "RPO", "RTO", "restored", "status"):
            table.add_column(column)
        for row in document["results"]:
            restored = row.get("bytes_restored")
            table.add_row(
                row["host"],
                row["service"],
                row.get("snapshot_id", "-"),
                f"{_age(row.get('rpo_achieved_seconds'))} / {_age(row['rpo_seconds'])}",
                f"{_duration(row.get('rto_achieved_seconds'))} / {_duration(row['rto_seconds'])}",
                f"{restored / 1e6:.1f} MB" if restored is not None else "-",
                f"[{STATUS_STYLE.get(row['status'], 'bold red')}]{row['status']}[/]",
            )
        console.print(table)
        for row in document["results"]:
            failed = [check for check in row["checks"] if not check["ok"]]
            for problem in ([row["error"]] if row.get("error") else []) + [
                f"check {check['name']}: {check['detail']}" for check in failed
            ]:
                stderr.print(f"{row['host']} {row['service']}: {problem}", markup=False)
    if any(row["status"] != "OK" for row in document["results"]):
        raise typer.Exit(1)


@app.command()
def report(
    lang: LangOption = None,
    output: Annotated[
        str, typer.Option(help="Where to write the HTML here.")
    ] = "tatbikat-raporu.html",
    data: DataOption = None,
) -> None:
    """Re-render the latest drill report from the DR host's history; save the HTML here."""
    estate = load(data)
    rendered = _on_dr_host_tool(estate, DRILL_TOOL, "report", *([f"--lang={lang}"] if lang else []))
    if not rendered.ok:
        raise BimkitError(
            f"dr report: bimkit-drill report on {estate.dr_repository_host.name} failed: "
            f"{rendered.stderr.strip() or rendered.stdout.strip()}"
        )
    html = _on_dr_host_tool(estate, "cat", rendered.stdout.strip())
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(html.stdout)
    console.print(f"{output}: the drill report ({rendered.stdout.strip()} on the DR host)")
