"""`bimkit lab up|status|ssh|down`: the estate as real Debian machines on this box."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer
from rich.table import Table

from bimkit.cli.output import DataOption, console, load, stderr
from bimkit.lab import lab
from bimkit.lab.state import LabPaths, LabState

app = typer.Typer(help="The estate's Linux hosts as machines on this box.", no_args_is_help=True)

SitesOption = Annotated[
    str | None,
    typer.Option("--sites", help="Comma-separated sites to boot (default: all)."),
]


def _unavailable(error: lab.LabUnavailable) -> typer.Exit:
    stderr.print(f"error: {error}", markup=False)
    return typer.Exit(2)


def _show(statuses: list[lab.MachineStatus], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("host", "site", "address", "state", "SSH"):
        table.add_column(column)
    for item in statuses:
        table.add_row(
            item.host,
            item.site,
            item.address,
            item.state if item.state == "running" else f"[red]{item.state}[/]",
            "ok" if item.ssh_ok else "[red]no[/]",
        )
    console.print(table)


@app.command()
def up(data: DataOption = None, sites: SitesOption = None) -> None:
    """Boot every Linux host of the chosen sites; idempotent."""
    estate = load(data)
    chosen = [s.strip() for s in sites.split(",") if s.strip()] if sites else None
    started = time.monotonic()
    try:
        with console.status("lab up") as spinner:

            def report(step: str) -> None:
                console.print(f"• {step}")
                spinner.update(step)

            statuses = lab.up(estate, chosen, LabPaths.from_env(), report)
    except lab.LabUnavailable as error:
        raise _unavailable(error) from None
    _show(statuses, f"lab up in {time.monotonic() - started:.0f} s")
    if not all(item.ssh_ok for item in statuses):
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """Every lab machine: address, state, whether SSH answers. Exit 1 when one is down."""
    statuses = lab.status(LabPaths.from_env())
    if not statuses:
        console.print("the lab is down")
        return
    _show(statuses, "lab")
    if not all(item.ssh_ok for item in statuses):
        raise typer.Exit(1)


@app.command()
def ssh(
    host: Annotated[str, typer.Argument(help="Lab host name.")],
    command: Annotated[list[str] | None, typer.Argument(help="Command to run.")] = None,
) -> None:
    """Log in to a lab machine as root (or run a command there)."""
    paths = LabPaths.from_env()
    state = LabState.load(paths)
    if state is None or host not in state.machines:
        known = ", ".join(sorted(state.machines)) if state else "none: the lab is down"
        stderr.print(f"error: `{host}` is not a lab machine (machines: {known})", markup=False)
        raise typer.Exit(1)
    os.execvp("ssh", ["ssh", "-F", str(paths.ssh_config), host, *(command or [])])


@app.command()
def down() -> None:
    """Stop every machine and remove namespaces, bridges, routes, overlays and mounts."""
    try:
        lab.down(LabPaths.from_env(), lambda step: console.print(f"• {step}"))
    except lab.LabUnavailable as error:
        raise _unavailable(error) from None
    console.print("the lab is down")
