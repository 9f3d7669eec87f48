"""`bimkit net`: the switches' running configurations against their plans, and their archive."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bimkit.cli.output import DataOption, console, load
from bimkit.errors import BimkitError
from bimkit.inventory import SWITCH_CONNECTOR, HostEntry, estate_inventory
from bimkit.lab.state import lab_enabled
from bimkit.model.estate import Estate
from bimkit.network_archive import (
    ARCHIVE,
    commit_command,
    history_command,
    init_command,
    numstat,
    write_commands,
)
from bimkit.remote import run_on
from roles.switch.connector import endpoint_of
from roles.switch.device import DeviceError, connect
from roles.switch.plan import drift as plan_drift
from roles.switch.plan import driver

app = typer.Typer(help="Switches: drift from their plans, the archive of their configurations.",
                  no_args_is_help=True)  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def switches(estate: Estate, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """name -> host data of every switch bimkit configures (of `only`, when given)."""
    found = {
        name.removeprefix(SWITCH_CONNECTOR): data
        for name, data in estate_inventory(estate)["switches"]
        if "switch" in data
    }
    if not found:
        hint = (" (the lab has switches only while simulated ones run: tests/lab/"
                "test_switches.py, benchmarks/switches.py)" if lab_enabled() else "")  # fmt: skip
        raise BimkitError(f"net: the inventory has no switch bimkit configures{hint}")
    unknown = sorted(set(only or []) - set(found))
    if unknown:
        raise BimkitError(f"net: no switch bimkit configures is named {', '.join(unknown)} "
                          f"(switches: {', '.join(sorted(found)) or 'none'})")  # fmt: skip
    return {name: data for name, data in found.items() if not only or name in only}


def running_configs(devices: dict[str, dict[str, Any]]) -> dict[str, str | DeviceError]:
    """Every device's running configuration, in parallel; a device that fails gives its error."""

    def pull(name: str) -> str | DeviceError:
        data = devices[name]
        try:
            session = connect(endpoint_of(name, data))
        except DeviceError as error:
            return error
        try:
            shown: str = session.send_command(
                driver(data["switch"]["platform"]).show_running, read_timeout=120
            )
            return shown
        except Exception as error:  # netmiko's many kinds; the device is named
            return DeviceError(f"switch `{name}`: reading its configuration failed: {error}")
        finally:
            session.disconnect()

    with ThreadPoolExecutor(max_workers=min(32, max(1, len(devices)))) as pool:
        return dict(zip(devices, pool.map(pull, devices), strict=True))


@app.command()
def drift(
    devices: Annotated[list[str] | None, typer.Argument(help="Switches (default: all).")] = None,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lines of each switch's running configuration that differ from its plan: `+` missing on
    the switch, `-` there but not planned. Exits 1 when any switch drifted or did not answer."""
    estate = load(data)
    chosen = switches(estate, devices)
    configs = running_configs(chosen)
    report: dict[str, dict[str, Any]] = {}
    for name, config in configs.items():
        if isinstance(config, DeviceError):
            report[name] = {"ok": False, "error": str(config), "lines": []}
        else:
            lines = plan_drift(chosen[name]["switch"], config)
            report[name] = {"ok": not lines, "error": None, "lines": lines}
    code = 0 if all(entry["ok"] for entry in report.values()) and report else 1
    if as_json:
        console.print_json(data={"switches": report, "ok": code == 0})
        raise typer.Exit(code)
    table = Table(title="Switches against their port plans")
    for column in ("Switch", "Platform", "Drift"):
        table.add_column(column, overflow="fold")
    for name, entry in report.items():
        if entry["error"]:
            state = Text(entry["error"], style="red")
        elif entry["lines"]:
            state = Text(f"{leaves(entry['lines'])} lines differ", style="yellow")
        else:
            state = Text("as planned", style="green")
        table.add_row(name, chosen[name]["switch"]["platform"], state)
    console.print(table)
    for name, entry in report.items():
        if entry["lines"]:
            console.print(Text(f"\n{name}", style="bold"))
            for line in entry["lines"]:
                console.print(Text(line, style="green" if line.startswith("+") else "red"))
    raise typer.Exit(code)


def leaves(lines: list[str]) -> int:
    """Drift lines that are configuration, not the section headers that place them."""

    def depth(line: str) -> int:
        return len(line[2:]) - len(line[2:].lstrip())

    return sum(
        1
        for index, line in enumerate(lines)
        if index + 1 == len(lines) or depth(lines[index + 1]) <= depth(line)
    )


def dr_host_entry(estate: Estate) -> HostEntry:
    host = estate.dr_repository_host
    entries = dict(estate_inventory(estate)["linux"])
    if host.name not in entries:
        raise BimkitError(f"net: the DR host {host.name} is not in the inventory "
                          "(is it up in the lab?)")  # fmt: skip
    return host.name, entries[host.name]


def on_dr_host(entry: HostEntry, command: str) -> str:
    result = run_on(entry, ["sh", "-c", command], "net: the DR host")
    if not result.ok:
        raise BimkitError(f"net: on the DR host {entry[0]}, {ARCHIVE}: "
                          f"{(result.stderr or result.stdout).strip()[-500:]}")  # fmt: skip
    return result.stdout


@app.command()
def backup(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Pull every switch's running configuration into the archive on the DR host (git, one
    commit per run). Exits 1 when a switch did not answer; the others are archived."""
    estate = load(data)
    chosen = switches(estate)
    configs = running_configs(chosen)
    pulled = {name: text for name, text in configs.items() if isinstance(text, str)}
    failed = {name: str(error) for name, error in configs.items() if isinstance(error, Exception)}
    entry = dr_host_entry(estate)
    changes: dict[str, tuple[int, int]] = {}
    commit = None
    if pulled:
        for command in [init_command(), *write_commands(pulled)]:
            on_dr_host(entry, command)
        message = (f"bimkit net backup: {len(pulled)} switches"
                   + (f", {len(failed)} did not answer ({', '.join(sorted(failed))})"
                      if failed else ""))  # fmt: skip
        output = on_dr_host(entry, commit_command(message, estate.config.domain))
        if not output.startswith("UNCHANGED"):
            commit = output.split()[0]
            changes = numstat(output)
    code = 1 if failed or not pulled else 0
    if as_json:
        console.print_json(data={"archive": f"{entry[0]}:{ARCHIVE}", "commit": commit,
                                 "changed": {n: list(c) for n, c in changes.items()},
                                 "archived": sorted(pulled), "failed": failed})  # fmt: skip
        raise typer.Exit(code)
    table = Table(title=f"Switch configurations archived on {entry[0]}:{ARCHIVE}")
    for column in ("Switch", "Lines", "Change", "Status"):
        table.add_column(column, overflow="fold")
    for name in sorted(configs):
        if name in failed:
            table.add_row(name, "-", "-", Text(failed[name], style="red"))
            continue
        added, removed = changes.get(name, (0, 0))
        change = f"+{added} -{removed}" if name in changes else "unchanged"
        table.add_row(name, str(len(pulled[name].splitlines())), change,
                      Text("archived", style="green"))  # fmt: skip
    console.print(table)
    console.print(f"commit {commit}" if commit else "nothing changed since the last run")
    raise typer.Exit(code)


@app.command()
def history(device: str, data: DataOption = None) -> None:
    """A switch's archived configurations over time, newest first, with each change's diff."""
    estate = load(data)
    switches(estate, [device])
    output = on_dr_host(dr_host_entry(estate), history_command(device))
    if not output.strip():
        raise BimkitError(f"net: no archived configuration of `{device}` in {ARCHIVE} "
                          "(run `bimkit net backup`)")  # fmt: skip
    console.print(Text(output))
