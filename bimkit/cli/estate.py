"""`bimkit validate`, `bimkit plan`, `bimkit usernames`: looking at the estate's data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bimkit.cli.output import DataOption, console, data_root, load, stderr
from bimkit.errors import BimkitError
from bimkit.file_shares import Access, access_table, desired_folders
from bimkit.files import write_atomically
from bimkit.model.estate import Estate
from bimkit.model.load import load_estate
from bimkit.model.rules import PEOPLE_FILE, USERNAMES_FILE
from bimkit.model.schema import Role
from bimkit.model.telephony import EXTENSIONS_FILE, sip_devices
from bimkit.model.usernames import Registry
from bimkit.sites import copy_estate_data


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(plan)
    app.add_typer(usernames_app, name="usernames")


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
    unrecorded = [device for device in sip_devices(estate) if device.credential is None]
    if unrecorded:
        stderr.print(
            f"[yellow]note:[/] {len(unrecorded)} extension(s) not recorded for their holder in "
            f"{EXTENSIONS_FILE} ({', '.join(str(d.extension) for d in unrecorded[:5])}"
            f"{', ...' if len(unrecorded) > 5 else ''}); run `bimkit pbx record` before "
            "deploying the PBX"
        )


def plan(
    data: DataOption = None,
    site: Annotated[str | None, typer.Option(help="Show only this site.")] = None,
    access: Annotated[
        bool, typer.Option("--access", help="Who may do what with each shared folder.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --access: JSON.")] = False,
) -> None:
    """Show the address and VLAN plan of each site, with its hosts (or, with --access, what
    each person and group may do with each folder of the file server)."""
    estate = load(data)
    if access:
        show_access(estate, as_json)
        return
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


ACCESS_MARKS = {Access.write: "W", Access.read: "r", Access.none: "·"}


def show_access(estate: Estate, as_json: bool) -> None:
    """The access table: W change, r read, · none (bimkit.file_shares.access_table)."""
    table_data = access_table(estate)
    if as_json:
        console.print_json(data={p: {f: str(a) for f, a in row.items()}
                                 for p, row in table_data.items()})  # fmt: skip
        return
    folders = [folder.path for folder in desired_folders(estate)]
    departments = {member.username: member.person.department for member in estate.members}
    table = Table(title="File server access: W change, r read, · none (home folders: each "
                  "person their own)", title_justify="left")  # fmt: skip
    table.add_column("person or group", no_wrap=True)
    for folder in folders:
        table.add_column(folder.replace("/", "/\n").replace("-", "-\n"), justify="center",
                         overflow="fold")  # fmt: skip
    people = sorted(p for p in table_data if p in departments)
    for principal in [*people, *sorted(p for p in table_data if p not in departments)]:
        label = f"{principal} ({departments[principal]})" if principal in departments else (
            f"[bold]{principal}[/]")  # fmt: skip
        table.add_row(label, *(ACCESS_MARKS[table_data[principal][f]] for f in folders))
    console.print(table)


usernames_app = typer.Typer(
    help="Usernames: list, record new ones, rename one (they never change otherwise).",
    invoke_without_command=True,
)


@usernames_app.callback()
def usernames(
    context: typer.Context,
    data: DataOption = None,
    record: Annotated[
        bool, typer.Option("--record", help=f"Write new usernames to {USERNAMES_FILE}.")
    ] = False,
) -> None:
    """List every person's username; with --record, fix new ones so they never change."""
    if context.invoked_subcommand is not None:
        return
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
    recorded = _registry(estate).recording(estate.new_usernames)
    write_atomically(root / USERNAMES_FILE, recorded.text())
    console.print(f"recorded {len(estate.new_usernames)} new username(s) in {USERNAMES_FILE}")


@usernames_app.command()
def rename(
    person_id: Annotated[str, typer.Argument(metavar="ID", help="The person's id (sicil no).")],
    new_name: Annotated[str, typer.Argument(metavar="NEW", help="The new username.")],
    data: DataOption = None,
) -> None:
    """Give person ID the username NEW, e.g. after a surname changes on marriage.

    The old name is retired (never handed out again); the next deploy renames
    the account, keeping its SID, groups and password, and keeps the old mail
    address as an alias.
    """
    root = data_root(data)
    estate = load_estate(root)
    people = [member.person for member in estate.members]
    if person_id not in {person.id for person in people}:
        raise BimkitError(f"usernames rename: no person with id {person_id} in {PEOPLE_FILE}")
    renamed = _registry(estate).renaming(person_id, new_name, people)
    old = estate.recorded_usernames[person_id]
    # The whole estate must still hold with the new registry before it is written.
    with tempfile.TemporaryDirectory(prefix="bimkit-rename-") as scratch:
        copy_estate_data(root, Path(scratch))
        (Path(scratch) / USERNAMES_FILE).write_text(renamed.text(), encoding="utf-8")
        load_estate(Path(scratch))
    write_atomically(root / USERNAMES_FILE, renamed.text())
    console.print(
        f"{person_id}: `{old}` -> `{new_name}` in {USERNAMES_FILE}; `{old}` is retired. "
        "The next deploy renames the account (same SID, groups and password)."
    )


def _registry(estate: Estate) -> Registry:
    return Registry(dict(estate.recorded_usernames), dict(estate.retired_usernames))
