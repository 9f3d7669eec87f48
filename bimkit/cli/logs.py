"""`bimkit logs`: the central log archive (law 5651) — seals, verification, lease search.

The log server does the work (`bimkit-logs`, dr.logs); these commands run it
over SSH and show what it reports.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

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


def _on_log_server(estate: Estate, *arguments: str, as_text: bool = False) -> tuple[Any, int]:
    """bimkit-logs' JSON on the log server and its exit status; errors name host and file.

    + as_text: its output as it is (a package in base64), and the JSON only of a refusal
    """
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
    if as_text and result.ok:
        return result.stdout, 0
    try:
        answer = json.loads(result.stdout)
        if as_text:
            raise BimkitError(f"logs: {servers[0]}: {answer.get('error', answer)}")
        return answer, 0 if result.ok else 1
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
    """Last sealed day per source, unsealed, missing and acknowledged days, the chain, forged
    lease records by source, disk use against the retention.

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
        f"{state['days']} days kept since {state['first_day']} ({state['timezone']}); "
        f"last sealed: {state['last_sealed_day'] or 'none'}"
    )
    console.print(f"chain: {state['chain_records']} records, the last {state['last_record']} "
                  f"stamped {state['last_stamped_at']}")  # fmt: skip
    console.print(Text(f"unsealed days: {', '.join(unsealed) or 'none'}",
                       style="red" if unsealed else "green"))  # fmt: skip
    console.print(Text(f"missing days: {', '.join(missing) or 'none'}",
                       style="red" if missing else "green"))  # fmt: skip
    if state["acknowledged_days"]:
        console.print(f"acknowledged gaps: {', '.join(state['acknowledged_days'])}")
    if state["lease_forgeries"]:
        forged = Table(
            title="Forged lease records: lease lines that did not come from a DHCP server's "
            "channel (never taken as leases)",
            title_style="bold red",
        )
        for column in ("Day", "Source", "Lines"):
            forged.add_column(column)
        for found in state["lease_forgeries"]:
            forged.add_row(found["day"], found["source"], str(found["lines"]))
        console.print(forged)
    console.print(
        f"disk: {_size(state['used_bytes'])} used; a full retention of "
        f"{state['retention_years']} calendar years needs about "
        f"{_size(state['projected_bytes'])}; {_size(state['free_bytes'])} free of "
        f"{_size(state['filesystem_bytes'])}"
    )
    raise typer.Exit(code)


def _day_option(option: str, value: str | None) -> list[str]:
    if value is None:
        return []
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise BimkitError(f"logs: {option} {value!r} is not a day (YYYY-MM-DD)") from None
    return [option, value]


def _time_option(value: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BimkitError(f"logs: --at {value!r} is not an ISO 8601 time") from None


@app.command()
def verify(
    first: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the chain of seals against its copy on the DR host, every token as it was valid
    when stamped, and every day from the chain's first to yesterday against its seal.

    Names each rewritten, re-sealed, copied-over, deleted or late day, each altered, missing
    or extra file; exits 1 then, and when no day was verified.
    """
    arguments = ["verify", *_day_option("--from", first), *_day_option("--to", last)]
    result, code = _on_log_server(load(data), *arguments)
    if as_json:
        console.print_json(data=result)
        raise typer.Exit(code)
    for problem in result["chain_problems"]:
        console.print(Text(f"chain: {problem}", style="red"))
    table = Table(title="Log archive verification")
    for column in ("Day", "State", "Files", "Stamped at", "Record", "Result"):
        table.add_column(column, overflow="fold")
    for verdict in result["days"]:
        outcome = (Text("\n".join(verdict["problems"]), style="red") if not verdict["ok"]
                   else Text("ok" + (f": {verdict['note']}" if verdict["note"] else ""),
                             style="green"))  # fmt: skip
        table.add_row(verdict["day"], verdict["state"], str(verdict["files"]),
                      verdict["stamped_at"], verdict["record"], outcome)  # fmt: skip
    console.print(table)
    days = result["days"]
    bad = [v for v in days if not v["ok"]]
    copies = result["records_on_dr_host"]
    console.print(f"{result['records']} records in the chain; "
                  + (f"{copies} on the DR host's copy" if copies is not None
                     else "no copy on the DR host to compare with"))  # fmt: skip
    if not days:
        console.print(Text("nothing verified: no closed day in the range", style="red"))
    else:
        console.print(f"{len(days) - len(bad)} of {len(days)} days verified; {len(bad)} failed")
    raise typer.Exit(code)


@app.command()
def search(
    ip: Annotated[str, typer.Option("--ip", help="The internal address asked about.")],
    at: Annotated[str, typer.Option("--at", help="When, ISO 8601 (local time if no zone).")],
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who had address IP at time AT: MAC, hostname and lease from the DHCP servers' lease
    channel, or the host the data gives a fixed address.

    Exits 1 when nothing covers that moment.
    """
    _time_option(at)
    answer, code = _on_log_server(load(data), "search", "--ip", ip, "--at", at)
    if as_json:
        console.print_json(data=answer)
        raise typer.Exit(code)
    if answer["static"]:
        console.print(f"{ip} is a fixed address in the data: {answer['static']}")
    leases = answer["leases"]
    if not leases and not answer["static"]:
        console.print(Text(f"no lease of {ip} at {answer['at']} in the archive", style="red"))
        raise typer.Exit(1)
    if leases:
        table = Table(title=f"Who had {ip} at {answer['at']}")
        for column in ("MAC", "Hostname", "Lease from", "Until", "Server", "Record"):
            table.add_column(column, overflow="fold")  # never cut a MAC or a time short
        for lease in leases:
            table.add_row(lease["mac"], lease["hostname"] or "-", lease["start"], lease["end"],
                          lease["server"], lease["where"])  # fmt: skip
        console.print(table)
    raise typer.Exit(code)


@app.command()
def acknowledge(
    day: Annotated[str, typer.Argument(help="The missing (or late) day, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who acknowledges it (default: you).")
    ] = None,
    data: DataOption = None,
) -> None:
    """Record in the chain, stamped, who says why DAY is missing (or was sealed late), so that
    `verify` passes it. An unacknowledged gap keeps failing."""
    _day_option("DAY", day)
    who = by or os.environ.get("SUDO_USER") or getpass.getuser()
    answer, code = _on_log_server(load(data), "acknowledge", day, "--reason", reason,
                                  "--by", who)  # fmt: skip
    if code:
        raise BimkitError(f"logs: {day} not acknowledged: {answer.get('error', answer)}")
    console.print(f"{day}: acknowledged by {who} ({answer['record']}, {answer['what']})")
    if answer["copy_error"]:
        console.print(Text(f"the DR host's copy is not made yet: {answer['copy_error']}",
                           style="red"))  # fmt: skip
        raise typer.Exit(1)


@app.command()
def evidence(
    ip: Annotated[str, typer.Option("--ip", help="The internal address asked about.")],
    at: Annotated[str, typer.Option("--at", help="When, ISO 8601 (local time if no zone).")],
    output: Annotated[Path | None, typer.Option("--output", help="The package (.tar.gz).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="tr (default) or en.")] = "tr",
    data: DataOption = None,
) -> None:
    """One archive for the authorities: the lease records that answer, the day's files and
    seal, the chain's links to the newest record, the TSA chains, and a handover record
    (kayıt teslim tutanağı) with every file's SHA-256 and the openssl and sha256sum commands
    that verify it all without bimkit."""
    if lang not in ("tr", "en"):
        raise BimkitError(f"logs: --lang {lang!r}: tr or en")
    estate = load(data)
    moment = _time_option(at)
    zone = ZoneInfo(estate.config.timezone)
    moment = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
    target = output or Path(f"{'kanit' if lang == 'tr' else 'evidence'}-{ip}-"
                            f"{moment:%Y%m%dT%H%M}.tar.gz")  # fmt: skip
    text, _ = _on_log_server(estate, "evidence", "--ip", ip, "--at", at, "--lang", lang,
                             "--output", "-", as_text=True)  # fmt: skip
    try:
        package = base64.b64decode(text, validate=False)
    except binascii.Error:
        package = b""
    if not package.startswith(b"\x1f\x8b"):
        raise BimkitError("logs: the log server sent no evidence package (not gzip)")
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(package)
    partial.replace(target)
    console.print(f"{target}: {len(package)} bytes; open the handover record inside "
                  f"({'tutanak.html' if lang == 'tr' else 'record.html'})")  # fmt: skip
