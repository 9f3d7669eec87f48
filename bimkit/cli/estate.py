"""`bimkit validate`, `bimkit plan`, `bimkit usernames`: looking at the estate's data."""

from __future__ import annotations

from typing import Annotated

import typer
import yaml
from rich.table import Table
from rich.text import Text

from bimkit.cli.output import DataOption, console, data_root, load, stderr
from bimkit.files import write_atomically
from bimkit.model.estate import Estate
from bimkit.model.load import load_estate
from bimkit.model.rules import USERNAMES_FILE
from bimkit.model.schema import Role


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(plan)
    app.command()(usernames)


def validate(data: DataOption = None) -> None:
    """Check every data file against every rule; list all problems, or summarise the estate."""
    estate = load(data)
    table = Table(title=f"{estate.config.municipality}: estate is valid", title_justify="left")
    table.add_column("site", no_wrap=True)
    table.add_column("no.", justify="right")
    table.add_column("title")
    table.add_column("block", no_wrap=True)
    for column in ("VLANs", "srv", "sw", "ws"):
        table.add_column(column, justify="right")
    for site in sorted(estate.sites.values(), key=lambda s: s.number):
        hosts = estate.hosts_at(site.name)
        switches = sum(1 for host in hosts if host.has(Role.switch))
        workstations = sum(1 for host in hosts if host.has(Role.workstation))
        table.add_row(
            site.name,
            str(site.number),
            site.title,
            str(site.block),
            str(len(site.vlans)),
            str(len(hosts) - switches - workstations),
            str(switches),
            str(workstations),
        )
    console.print(table)
    active = sum(1 for member in estate.members if member.person.active)
    console.print(
        f"{len(estate.sites)} sites, {len(estate.hosts)} hosts, {len(estate.members)} people "
        f"({active} active, {len(estate.members) - active} inactive), "
        f"{len(estate.departments)} departments, realm {estate.config.realm}"
    )
    if estate.new_usernames:
        stderr.print(
            f"[yellow]note:[/] {len(estate.new_usernames)} username(s) not yet recorded in "
            f"{USERNAMES_FILE}; run `bimkit usernames --record` before creating accounts"
        )


def plan(
    data: DataOption = None,
    site: Annotated[str | None, typer.Option(help="Show only this site.")] = None,
) -> None:
    """Show the address and VLAN plan of each site, with its hosts."""
    estate = load(data)
    sites = sorted(estate.sites.values(), key=lambda s: s.number)
    if site is not None:
        sites = [s for s in sites if s.name == site]
        if not sites:
            stderr.print(
                f"[red]error:[/] no site `{site}`; sites: {', '.join(sorted(estate.sites))}"
            )
            raise typer.Exit(1)
    for shown in sites:
        table = Table(
            title=f"{shown.name} (site {shown.number}, {shown.title}): {shown.block}",
            title_justify="left",
        )
        for column in ("VLAN", "id", "subnet", "gateway", "hosts"):
            table.add_column(column)
        for vlan in sorted(shown.vlans.values(), key=lambda v: v.id):
            hosts = sorted(
                (h for h in estate.hosts_at(shown.name) if h.vlan.kind == vlan.kind),
                key=lambda h: h.address,
            )
            table.add_row(
                str(vlan.kind),
                str(vlan.id),
                str(vlan.subnet),
                str(vlan.gateway),
                Text("\n".join(f"{h.address}  {h.name}" for h in hosts) or "-"),
            )
        console.print(table)


def usernames(
    data: DataOption = None,
    record: Annotated[
        bool, typer.Option("--record", help=f"Write new usernames to {USERNAMES_FILE}.")
    ] = False,
) -> None:
    """List every person's username; with --record, fix new ones so they never change."""
    root = data_root(data)
    estate = load_estate(root)
    table = Table(title="Usernames", title_justify="left")
    for column in ("id", "name", "username", "department", "state"):
        table.add_column(column)
    for member in sorted(estate.members, key=lambda m: m.username):
        state = "new" if member.person.id in estate.new_usernames else "recorded"
        if not member.person.active:
            state += ", inactive"
        table.add_row(
            member.person.id, member.display_name, member.username, member.person.department, state
        )
    console.print(table)
    if not record:
        if estate.new_usernames:
            console.print(
                f"{len(estate.new_usernames)} new; `--record` writes them to {USERNAMES_FILE}"
            )
        return
    write_atomically(root / USERNAMES_FILE, registry_text(estate))
    console.print(f"recorded {len(estate.new_usernames)} new username(s) in {USERNAMES_FILE}")


def registry_text(estate: Estate) -> str:
    """`directory/usernames.yaml` with the new usernames added, oldest ids first."""
    recorded = {**estate.recorded_usernames, **estate.new_usernames}
    ordered = dict(sorted(recorded.items(), key=lambda item: (len(item[0]), item[0])))
    header = (
        "# Usernames handed out, by person id. Written by `bimkit usernames --record`.\n"
        "# Entries stay after a person leaves: a username is never given to anyone else.\n"
    )
    return header + yaml.safe_dump({"usernames": ordered}, allow_unicode=True, sort_keys=False)
