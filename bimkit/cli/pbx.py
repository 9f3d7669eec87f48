"""`bimkit pbx`: the IP PBX as its phones and agents see it."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bimkit.cli.output import DataOption, console, data_root, load
from bimkit.errors import BimkitError
from bimkit.files import write_atomically
from bimkit.inventory import estate_inventory
from bimkit.model.schema import Role
from bimkit.model.telephony import EXTENSIONS_FILE, extensions_text, recording, sip_devices
from bimkit.pbx_status import (
    STATUS_COMMAND,
    VOICEMAIL_LIMIT,
    registered_contacts,
    registrations,
    sections,
    voicemail_counts,
)
from bimkit.remote import run_on
from dr.asterisk import queues

app = typer.Typer(help="The IP PBX (Asterisk).", no_args_is_help=True)


@app.command()
def status(
    min_registered: Annotated[
        int | None,
        typer.Option(help="Pass with at least this many phones registered (default: all)."),
    ] = None,
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Registrations per site (registered / expected), queue members and calls waiting,
    voicemail boxes that are full. Exits 1 when fewer phones are registered than expected."""
    estate = load(data)
    pbx = [host.name for host in estate.hosts_with(Role.pbx)]
    if not pbx:
        raise BimkitError("pbx: no host of the estate has the pbx role")
    entries = dict(estate_inventory(estate)["linux"])
    if pbx[0] not in entries:
        raise BimkitError(f"pbx: the PBX {pbx[0]} is not in the inventory (is it up in the lab?)")
    result = run_on((pbx[0], entries[pbx[0]]), ["sh", "-c", STATUS_COMMAND], "pbx: the PBX")
    found = sections(result.stdout)
    if "contacts" not in found or "Unable to connect" in result.stdout + result.stderr:
        raise BimkitError(f"pbx: Asterisk on {pbx[0]} did not answer `asterisk -rx`: "
                          f"{(result.stderr or result.stdout).strip()[-300:]}")  # fmt: skip
    groups = registrations(estate, registered_contacts(found["contacts"]))
    queue_states = queues(found.get("queues", ""))
    full = {box: n for box, n in voicemail_counts(found.get("voicemail", "")).items()
            if n >= VOICEMAIL_LIMIT}  # fmt: skip
    registered = sum(len(group.registered) for group in groups)
    expected = sum(len(group.expected) for group in groups)
    threshold = expected if min_registered is None else min_registered
    # No phone expected proves nothing about the PBX: that is not a pass.
    code = 0 if registered >= threshold and expected > 0 else 1
    if as_json:
        console.print_json(data={
            "registrations": [{"group": g.group, "registered": g.registered,
                               "expected": g.expected, "missing": g.missing} for g in groups],
            "queues": [dataclasses.asdict(q) for q in queue_states],
            "voicemail_full": full, "registered": registered, "expected": expected,
            "threshold": threshold, "ok": code == 0,
        })  # fmt: skip
        raise typer.Exit(code)
    table = Table(title=f"Registrations on {pbx[0]}")
    for column in ("Site", "Registered", "Missing"):
        table.add_column(column, overflow="fold")
    for group in groups:
        count = f"{len(group.registered)} / {len(group.expected)}"
        style = "green" if not group.missing else "yellow"
        table.add_row(group.group, Text(count, style=style),
                      ", ".join(map(str, group.missing)) or "-")  # fmt: skip
    console.print(table)
    queue_table = Table(title="Queues")
    for column in (
        "Queue",
        "Waiting",
        "Answered",
        "Abandoned",
        "Average wait",
        "Agents available",
        "Agents",
    ):
        queue_table.add_column(column)
    for queue in queue_states:
        available = sum(state == "Not in use" for state in queue.members.values())
        agents = ", ".join(f"{e} ({s})" for e, s in sorted(queue.members.items()))
        queue_table.add_row(
            queue.name, str(queue.waiting), str(queue.answered), str(queue.abandoned),
            f"{queue.hold_seconds} s", f"{available} / {len(queue.members)}", agents,
        )  # fmt: skip
    console.print(queue_table)
    console.print(
        Text(
            f"voicemail boxes full ({VOICEMAIL_LIMIT} messages): "
            f"{', '.join(map(str, sorted(full))) or 'none'}",
            style="red" if full else "green",
        )
    )
    console.print(Text(f"{registered} of {expected} phones registered (pass at {threshold})",
                       style="green" if code == 0 else "red"))  # fmt: skip
    raise typer.Exit(code)


@app.command()
def record(
    reissue: Annotated[
        list[int] | None,
        typer.Option(help="An extension whose phone was lost or stolen: its holder's phone "
                     "gets new credentials, the old one is refused (repeat for more)."),
    ] = None,
    data: DataOption = None,
) -> None:
    """Record each extension's present holder in directory/extensions.yaml.

    A new holder's phone gets new credentials at the next deploy, derived from the
    assignment, and the phone before is refused; so is a reissued one's.
    """
    root = data_root(data)
    estate = load(data)
    devices = sip_devices(estate)
    extensions = {device.extension for device in devices}
    unknown = sorted(set(reissue or ()) - extensions)
    if unknown:
        raise BimkitError(f"pbx record: no phone has extension(s) "
                          f"{', '.join(map(str, unknown))} in the data")  # fmt: skip
    before = estate.extension_holders
    after = recording(before, devices, reissue or ())
    table = Table(title=f"Extensions ({EXTENSIONS_FILE})", title_justify="left")
    for column in ("extension", "holder", "assignment", ""):
        table.add_column(column)
    for device in devices:
        history = after[device.extension]
        change = ("reissued" if device.extension in (reissue or ()) else "new holder"
                  ) if history != before.get(device.extension) else ""  # fmt: skip
        table.add_row(str(device.extension), device.owner, f"#{len(history)}", change)
    console.print(table)
    changed = sum(1 for number, history in after.items() if before.get(number) != history)
    if not changed:
        console.print(f"every assignment is recorded already; {EXTENSIONS_FILE} unchanged")
        return
    write_atomically(root / EXTENSIONS_FILE, extensions_text(after))
    console.print(f"recorded {changed} assignment(s) in {EXTENSIONS_FILE}; commit it, then "
                  "deploy the PBX (`pyinfra inventory.py deploys/pbx.py`)")  # fmt: skip
