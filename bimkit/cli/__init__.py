"""The `bimkit` command: one Typer app, one module per topic."""

from __future__ import annotations

import os
import sys

import typer
from rich.text import Text

from bimkit.cli import (
    dc,
    deploy,
    directory,
    dr,
    estate,
    hostkeys,
    lab,
    logs,
    net,
    pbx,
    secrets,
    site,
)
from bimkit.cli.output import DataOption, stderr
from bimkit.errors import BimkitError
from dr.errors import DrError

app = typer.Typer(
    name="bimkit",
    help="Infrastructure as code and disaster recovery for a municipal IT directorate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(data: DataOption = None) -> None:
    """`bimkit --data DIR COMMAND`: the same as the command's own `--data DIR`."""
    if data is not None:
        # Every command reads BIMKIT_DATA when it is not given --data itself.
        os.environ["BIMKIT_DATA"] = str(data)


estate.register(app)
deploy.register(app)
app.add_typer(secrets.app, name="secrets")
app.add_typer(hostkeys.app, name="hostkeys")
app.add_typer(lab.app, name="lab")
app.add_typer(dc.app, name="dc")
app.add_typer(directory.app, name="directory")
app.add_typer(dr.app, name="dr")
app.add_typer(logs.app, name="logs")
app.add_typer(pbx.app, name="pbx")
app.add_typer(net.app, name="net")
app.add_typer(site.app, name="site")


def main() -> None:
    try:
        app()
    except (BimkitError, DrError) as error:
        # Text, not markup: paths such as `hosts[2]` would otherwise read as Rich tags.
        stderr.print(Text.assemble(("error: ", "bold red"), str(error)), soft_wrap=True)
        sys.exit(1)
