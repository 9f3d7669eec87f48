"""`bimkit directory leavers`: disabled accounts and what they still own on the file servers."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bimkit import leavers as leavers_plan
from bimkit.cli.output import DataOption, console, load
from bimkit.errors import BimkitError
from bimkit.file_shares import SHARES_ROOT
from bimkit.inventory import estate_inventory
from bimkit.model.estate import Estate
from bimkit.remote import connected
from roles.domain_controller.facts import DomainState
from roles.file_server.facts import AccountIds, FilesOwned

app = typer.Typer(help="The directory: accounts as the DCs hold them.", no_args_is_help=True)


def find_leavers(estate: Estate) -> list[leavers_plan.Leaver]:
    """The primary DC's disabled accounts; each one's files on every file server."""
    groups = estate_inventory(estate)
    primary = estate.primary_dc.name
    dc = [entry for entry in groups["domain_controllers"] if entry[0] == primary]
    with connected(dc) as session:
        if primary in session.unreachable:
            raise BimkitError(f"directory leavers: the primary DC {primary} cannot be reached "
                              f"over SSH: {session.unreachable[primary]}")  # fmt: skip
        state = session.facts(DomainState)[primary]
    if state is None:
        raise BimkitError(f"directory leavers: {primary} holds no domain yet (not provisioned)")
    disabled = sorted(
        name for name, user in state["directory"]["users"].items() if not user["enabled"]
    )
    servers = [entry for entry in groups["file_servers"] if entry[1]["os"] == "debian"]
    uids: dict[str, int] = {}
    owned: dict[str, dict[int, list[int]]] = {}
    if servers and disabled:
        with connected(servers) as session:
            for name, why in session.unreachable.items():
                raise BimkitError(f"directory leavers: file server {name} cannot be reached "
                                  f"over SSH: {why}")  # fmt: skip
            for ids in session.facts(AccountIds, database="passwd", names=disabled).values():
                uids |= ids or {}
            owned = session.facts(FilesOwned, root=SHARES_ROOT)
    return leavers_plan.leavers(state["directory"], uids, leavers_plan.add_owned(owned))


@app.command()
def leavers(
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Disabled accounts with the files they still own on the file servers, largest first."""
    estate = load(data)
    found = find_leavers(estate)
    if as_json:
        console.print_json(json.dumps([leaver.as_dict() for leaver in found], ensure_ascii=False))
        return
    table = Table(title=f"{estate.config.realm}: leavers (disabled accounts)",
                  title_justify="left")  # fmt: skip
    for column in ("username", "name", "personnel id", "department"):
        table.add_column(column)
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    for leaver in found:
        table.add_row(leaver.username, leaver.display_name, leaver.person_id, leaver.department,
                      str(leaver.files), f"{leaver.bytes / 1e6:.1f} MB")  # fmt: skip
    console.print(table)
    console.print(f"{len(found)} disabled account(s); their files stay in place, owned by the "
                  "account, until their department takes them over.")  # fmt: skip
