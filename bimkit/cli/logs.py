"""`bimkit logs`: the central log archive (law 5651) — seals, verification, lease search.

The log server does the work (`bimkit-logs`, dr.logs); these commands run it
over SSH and show what it reports.
"""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bimkit.cli.output import DataOption, console, load
from bimkit.errors import BimkitError
from bimkit.inventory import estate_inventory
from bimkit.model.estate import Estate
from bimkit.model.schema import Role
from bimkit.remote import run_on
from dr.paths import LOGS_CONFIG, LOGS_TOOL

app = typer.Typer(help="The central log archive (law 5651).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _on_log_server(estate: Estate, *arguments: str) -> tuple[Any, int]:
    """bimkit-logs' JSON on the log server and its exit status; errors name host and file."""
    servers = [host.name for host in estate.hosts_with(Role.log_server)]
    if not servers:
        raise BimkitError("logs: no host of the estate has the log_server role")
    entries = dict(estate_inventory(estate)["linux"])
    if servers[0] not in entries:
        raise BimkitError(f"logs: the log server {servers[0]} is not in the inventory "
                          "(is it up in the lab?)")  # fmt: skip
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        progress.add_task(f"{servers[0]}: bimkit-logs {arguments[0]}", total=None)
        result = run_on((servers[0], entries[servers[0]]),
                        [LOGS_TOOL, "--json", *arguments], "logs: the log server")  # fmt: skip
    try:
        return json.loads(result.stdout), 0 if result.ok else 1
    except json.JSONDecodeError:
        said = result.stderr.strip() or result.stdout.strip() or "no output"
        raise BimkitError(
            f"logs: `bimkit-logs {arguments[0]}` on {servers[0]} failed ({LOGS_CONFIG}, "
            f"{LOGS_TOOL}): {said}"
        ) from None


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{count} B"


@app.command()
def status(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Last sealed day per source, unsealed or missing days, disk use against the retention.

    Exits 1 when a closed day is unsealed or missing.
    """
    state, code = _on_log_server(load(data), "status")
    if as_json:
        console.print_json(data=state)
        raise typer.Exit(code)
    table = Table(title=f"Log archive {state['root']} (last sealed day per source)")
    table.add_column("Source")
    table.add_column("Last sealed day")
    for source, day in state["last_sealed_by_source"].items():
        table.add_row(source, day)
    console.print(table)
    unsealed, missing = state["unsealed_days"], state["missing_days"]
    console.print(
        f"{state['days']} days kept since {state['first_day']}; "
        f"last sealed: {state['last_sealed_day'] or 'none'}"
    )
    console.print(Text(f"unsealed days: {', '.join(unsealed) or 'none'}",
                       style="red" if unsealed else "green"))  # fmt: skip
    console.print(Text(f"missing days: {', '.join(missing) or 'none'}",
                       style="red" if missing else "green"))  # fmt: skip
    console.print(
        f"disk: {_size(state['used_bytes'])} used; a full retention of "
        f"{state['retention_days']} days needs about {_size(state['projected_bytes'])}; "
        f"{_size(state['free_bytes'])} free of {_size(state['filesystem_bytes'])}"
    )
    raise typer.Exit(code)


@app.command()
def verify(
    first: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every closed day's time stamp and every file against its manifest.

    Names each altered, missing or extra file and each day without a token; exits 1
    then, and when no day was verified.
    """
    arguments = ["verify"]
    for option, value in (("--from", first), ("--to", last)):
        if value is not None:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise BimkitError(f"logs: {option} {value!r} is not a day (YYYY-MM-DD)") from None
            arguments += [option, value]
    verdicts, code = _on_log_server(load(data), *arguments)
    if as_json:
        console.print_json(data=verdicts)
        raise typer.Exit(code)
    table = Table(title="Log archive verification")
    for column in ("Day", "Files", "Stamped at", "Result"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        result = Text("ok", style="green") if verdict["ok"] else Text(
            "\n".join(verdict["problems"]), style="red")  # fmt: skip
        table.add_row(verdict["day"], str(verdict["files"]), verdict["stamped_at"], result)
    console.print(table)
    bad = [v for v in verdicts if not v["ok"]]
    if not verdicts:
        console.print(Text("nothing verified: no closed day in the range", style="red"))
    else:
        console.print(f"{len(verdicts) - len(bad)} of {len(verdicts)} days verified; "
                      f"{len(bad)} failed")  # fmt: skip
    raise typer.Exit(code)


@app.command()
def search(
    ip: Annotated[str, typer.Option("--ip", help="The internal address asked about.")],
    at: Annotated[str, typer.Option("--at", help="When, ISO 8601 (local time if no zone).")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who had address IP at time AT: MAC, hostname and lease, from the DHCP records.

    Exits 1 when no lease covers that moment.
    """
    try:
        datetime.datetime.fromisoformat(at)
    except ValueError:
        raise BimkitError(f"logs: --at {at!r} is not an ISO 8601 time") from None
    leases, code = _on_log_server(load(data), "search", "--ip", ip, "--at", at)
    if as_json:
        console.print_json(data=leases)
        raise typer.Exit(code)
    if not leases:
        console.print(Text(f"no lease of {ip} at {at} in the archive", style="red"))
        raise typer.Exit(1)
    table = Table(title=f"Who had {ip} at {at}")
    for column in ("MAC", "Hostname", "Lease from", "Until", "Server", "Record"):
        table.add_column(column, overflow="fold")  # never cut a MAC or a time short
    for lease in leases:
        table.add_row(lease["mac"], lease["hostname"] or "-", lease["start"], lease["end"],
                      lease["server"], lease["where"])  # fmt: skip
    console.print(table)
    raise typer.Exit(code)
