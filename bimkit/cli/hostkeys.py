"""`bimkit hostkeys scan|check`: the SSH host keys deploys trust, pinned beside the data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bimkit import hostkeys
from bimkit.cli.output import DataOption, console, load, stderr
from bimkit.errors import BimkitError
from bimkit.hostkeys import HostTarget, KeyState
from bimkit.inventory import reached_over_ssh
from bimkit.model.estate import Estate

app = typer.Typer(help="SSH host keys of the estate's hosts (known_hosts).", no_args_is_help=True)

HostsArgument = Annotated[
    list[str] | None, typer.Argument(help="Hosts (default: every SSH host).", show_default=False)
]
STYLE = {
    KeyState.ok: "green",
    KeyState.changed: "bold red",
    KeyState.not_recorded: "yellow",
    KeyState.unreachable: "red",
}


def _targets(estate: Estate, hosts: list[str] | None) -> list[HostTarget]:
    """The chosen SSH hosts; unknown names are refused before any connection."""
    ssh_hosts = {h.name: str(h.address) for h in estate.hosts.values() if reached_over_ssh(h)}
    chosen = sorted(set(hosts)) if hosts else sorted(ssh_hosts)
    unknown = [name for name in chosen if name not in ssh_hosts]
    if unknown:
        raise BimkitError(
            f"hostkeys: {', '.join(unknown)} is not an SSH host of the estate; "
            f"SSH hosts: {', '.join(sorted(ssh_hosts))}"
        )
    return [HostTarget(name, ssh_hosts[name]) for name in chosen]


def _table(title: str, targets: list[HostTarget], states: dict[str, str]) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("host", "address", "key"):
        table.add_column(column)
    for target in targets:
        table.add_row(target.name, target.address, states[target.name])
    console.print(table)


def _styled(state: KeyState, text: str | None = None) -> str:
    return f"[{STYLE[state]}]{text or state}[/]"


@app.command()
def scan(
    hosts: HostsArgument = None,
    replace: Annotated[
        list[str] | None,
        typer.Option(
            "--replace",
            help="Accept HOST's new key (after checking it out of band).",
            metavar="HOST",
        ),
    ] = None,
    data: DataOption = None,
) -> None:
    """Record the keys hosts offer now; a changed key only for hosts named with --replace."""
    estate = load(data)
    path = hostkeys.known_hosts_path(estate)
    targets = _targets(estate, hosts)
    recorded = hostkeys.recorded_keys(path)
    offered = hostkeys.scan(targets)
    keys, refused = hostkeys.merged(recorded, offered, replace or [])
    hostkeys.write(path, keys, _targets(estate, None))
    before = hostkeys.compare(recorded, offered)
    done = {
        KeyState.ok: "OK",
        KeyState.not_recorded: "recorded now",
        KeyState.changed: "CHANGED, not recorded",
        KeyState.unreachable: "UNREACHABLE",
    }
    shown = {
        name: _styled(state, "replaced" if name in (replace or []) and state is KeyState.changed
                      else done[state])
        for name, state in before.items()
    }  # fmt: skip
    _table(f"Host keys recorded in {path}", targets, shown)
    silent = [name for name, state in before.items() if state is KeyState.unreachable]
    for name in refused:
        stderr.print(
            f"{name}: its key CHANGED and was not recorded; if the host was reinstalled, check "
            f"the key out of band, then `bimkit hostkeys scan {name} --replace {name}`",
            markup=False,
        )
    for name in silent:
        stderr.print(f"{name}: did not answer on SSH; nothing recorded for it", markup=False)
    if refused or silent:
        raise typer.Exit(1)


@app.command()
def check(hosts: HostsArgument = None, data: DataOption = None) -> None:
    """Compare the keys hosts offer with the recorded ones; exit 1 on any difference."""
    estate = load(data)
    path = hostkeys.known_hosts_path(estate)
    targets = _targets(estate, hosts)
    states = hostkeys.compare(hostkeys.recorded_keys(path), hostkeys.scan(targets))
    _table(
        f"Host keys against {path}",
        targets,
        {name: _styled(state) for name, state in states.items()},
    )
    if any(state is not KeyState.ok for state in states.values()):
        raise typer.Exit(1)
