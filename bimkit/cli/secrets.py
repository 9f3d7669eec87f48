"""`bimkit secrets check`: which secrets the estate needs and which are missing."""

from __future__ import annotations

import typer
from rich.table import Table

from bimkit.cli.output import DataOption, console, load
from bimkit.secrets import load_secrets, required_secrets, secrets_dir

app = typer.Typer(help="Secrets the estate needs (names only, never values).", no_args_is_help=True)


@app.command()
def check(data: DataOption = None) -> None:
    """List the needed secrets and where each is set; exit 1 when any is missing."""
    specs = required_secrets(load(data))
    secrets = load_secrets(specs)
    table = Table(title=f"Secrets (directory: {secrets_dir()})", title_justify="left")
    for column in ("name", "purpose", "used by", "set from"):
        table.add_column(column)
    missing = 0
    for spec in specs:
        source = secrets.sources.get(spec.name)
        if source is None:
            missing += 1
        table.add_row(spec.name, spec.purpose, spec.used_by, source or "[bold red]MISSING[/]")
    console.print(table)
    if missing:
        console.print(
            f"[red]{missing} of {len(specs)} secrets missing[/]: set BIMKIT_<NAME> "
            f"or write {secrets_dir()}/<name> with mode 0600"
        )
        raise typer.Exit(1)
    console.print(f"all {len(specs)} secrets set")
