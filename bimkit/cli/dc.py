"""`bimkit dc health`: is the domain healthy? Replication, dbcheck, FSMO, DNS from every site."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bimkit import dc_health
from bimkit.ad_sites import desired_topology
from bimkit.cli.output import DataOption, console, load
from bimkit.inventory import estate_inventory, site_group
from bimkit.model.estate import Estate
from bimkit.remote import connected
from roles.domain_controller.facts import (
    DatabaseCheck,
    FsmoRoles,
    ReplicationStatus,
    SiteRecords,
    SrvRecords,
)

app = typer.Typer(help="Domain controllers.", no_args_is_help=True)


def domain_health(estate: Estate) -> list[dc_health.Verdict]:
    """Every DC's replication, dbcheck and FSMO view; SRV lookups from one host per site."""
    groups = estate_inventory(estate)
    dcs = groups["domain_controllers"]
    # One Linux host per site asks its own resolvers, as the site's members do;
    # a member rather than a DC, which would only ask itself.
    askers = {}
    for site in estate.sites:
        linux = sorted(
            (name for name, data in groups[site_group(site)] if data["os"] == "debian"),
            key=lambda name: (name in dict(dcs), name),
        )
        if linux:
            askers[linux[0]] = site
    entries = {name: (name, data) for name, data in [*dcs, *groups["linux"]]}
    chosen = [entries[name] for name in sorted({*(n for n, _ in dcs), *askers})]
    verdicts = []
    with connected(chosen) as session:
        dc_names = [name for name, _ in dcs if name not in session.unreachable]
        replication = session.facts(ReplicationStatus) if dc_names else {}
        databases = session.facts(DatabaseCheck) if dc_names else {}
        roles = session.facts(FsmoRoles) if dc_names else {}
        answers = session.facts(SrvRecords, realm=estate.config.realm)
        topology = desired_topology(estate)
        # Each asker's resolvers, as its site's clients ask them (the DCs' answers too).
        located = session.facts(SiteRecords, realm=estate.config.realm,
                                sites=sorted(estate.sites), server="")  # fmt: skip
        for name, _ in dcs:
            if name in session.unreachable:
                verdicts.append(dc_health.unreachable(name, "dc", session.unreachable[name]))
                continue
            verdicts += [
                dc_health.replication(name, replication[name], other_dcs=len(dcs) - 1),
                dc_health.dbcheck(name, databases[name]),
                dc_health.fsmo(name, roles[name], expected_owner=estate.primary_dc.name),
            ]
        for name, site in sorted(askers.items(), key=lambda item: item[1]):
            if name in session.unreachable:
                check = f"dns-srv from {site}"
                verdicts.append(dc_health.unreachable(name, check, session.unreachable[name]))
            else:
                expected = [dc for dc, at in topology.servers.items() if at == site]
                verdicts += [
                    dc_health.srv_records(name, site, answers[name]),
                    dc_health.site_locator(name, site, located[name].get(site, []),
                                           expected or topology.coverage.get(site, ())),
                ]  # fmt: skip
    return verdicts


@app.command()
def health(
    data: DataOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Replication, dbcheck, FSMO placement, SRV records from every site; exit 1 if unhealthy."""
    estate = load(data)
    verdicts = domain_health(estate)
    healthy = dc_health.healthy(verdicts)
    if as_json:
        report = {"healthy": healthy, "checks": [v.as_dict() for v in verdicts]}
        console.print_json(json.dumps(report, ensure_ascii=False))
    else:
        table = Table(title=f"{estate.config.realm}: domain health", title_justify="left")
        for column in ("host", "check", "result", "detail"):
            table.add_column(column)
        for verdict in verdicts:
            result = "[green]OK[/]" if verdict.ok else "[bold red]FAIL[/]"
            table.add_row(verdict.host, verdict.check, result, verdict.detail)
        console.print(table)
        console.print("healthy" if healthy else "[bold red]UNHEALTHY[/]")
    if not healthy:
        raise typer.Exit(1)
