"""`bimkit site`: new unit buildings from templates."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from bimkit import sites
from bimkit.cli.output import DataOption, console, data_root, load, stderr

app = typer.Typer(help="Unit sites: new buildings from templates.", no_args_is_help=True)


@app.command()
def templates(data: DataOption = None) -> None:
    """The site templates and their parameters (templates/site/*.meta.yaml)."""
    found = sites.site_templates(data_root(data))
    table = Table(title="Site templates", title_justify="left")
    for column in ("template", "description", "switch", "parameters (default, limits)"):
        table.add_column(column)
    for template in found.values():
        parameters = []
        for parameter in template.parameters.values():
            limits = (
                "|".join(parameter.choices)
                if parameter.choices
                else f"{parameter.minimum}-{parameter.maximum}"
            )
            parameters.append(f"{parameter.name}: {parameter.default} ({limits})")
        table.add_row(
            template.name,
            template.description,
            f"{template.switch_ports} ports, {template.uplinks} uplink(s)",
            "\n".join(parameters),
        )
    console.print(table)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Short name, e.g. kultur-merkezi (Turkish folded).")],
    number: Annotated[int, typer.Option(help="Site number: picks its address block.")],
    title: Annotated[str, typer.Option(help='The building, e.g. "Kültür Merkezi".')],
    template: Annotated[str, typer.Option(help="See `bimkit site templates`.")] = "unit-small",
    workstations: Annotated[int | None, typer.Option(help="Default: the template's.")] = None,
    phones: Annotated[int | None, typer.Option(help="Default: the template's.")] = None,
    cameras: Annotated[int | None, typer.Option(help="Default: the template's.")] = None,
    switch_os: Annotated[str | None, typer.Option(help="Default: the template's.")] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Host names start with it, e.g. fen (default: NAME).")
    ] = None,
    department: Annotated[
        list[str] | None,
        typer.Option(
            help="A department housed there, whose staff sign in at its desks (repeat for more)."
        ),
    ] = None,
    dry: Annotated[bool, typer.Option("--dry", help="Print the file and the plan only.")] = False,
    force: Annotated[
        bool, typer.Option(help="Replace an existing file, after showing the difference.")
    ] = False,
    data: DataOption = None,
) -> None:
    """Write a validated sites/<name>.yaml for a new unit building."""
    root = data_root(data)
    estate = load(data)
    given: dict[str, Any] = {
        key: value
        for key, value in (
            ("workstations", workstations),
            ("phones", phones),
            ("cameras", cameras),
            ("switch_os", switch_os),
        )
        if value is not None
    }
    made = sites.new_site(
        root,
        estate,
        name,
        number,
        title,
        template,
        given,
        replacing=force,
        prefix=prefix,
        departments=department or [],
    )
    path = root / "sites" / f"{made.name}.yaml"
    site = made.estate.sites[made.name]
    console.print(Syntax(made.text, "yaml", theme="ansi_light", word_wrap=True))
    table = Table(title=f"{made.name}: site {site.number}, {site.block}", title_justify="left")
    for column in ("VLAN", "id", "subnet", "gateway", "hosts"):
        table.add_column(column)
    for vlan in sorted(site.vlans.values(), key=lambda v: v.id):
        count = sum(1 for h in made.estate.hosts_at(made.name) if h.vlan.kind == vlan.kind)
        table.add_row(str(vlan.kind), str(vlan.id), str(vlan.subnet), str(vlan.gateway), str(count))
    console.print(table)
    if dry:
        console.print(f"--dry: {path} not written")
        return
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if old == made.text:
            console.print(f"{path} is already this file; nothing written")
            return
        stderr.print(sites.diff(old, made.text, made.name), markup=False, highlight=False)
    written = sites.write(root, made.name, made.text)
    console.print(
        f"wrote {written}; next: `bimkit validate`, then "
        f"`pyinfra inventory.py deploys/site.py --limit site_{made.name}`"
    )
