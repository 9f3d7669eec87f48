"""`bimkit deploy [CLASS] [PYINFRA OPTIONS]`: pyinfra with bimkit's inventory and deploys.

The same as `pyinfra inventory.py deploys/CLASS.py ...` in a checkout, and
what an installed bimkit (a wheel, no checkout) deploys with: the inventory
and the deploys travel inside the package (bimkit.resources).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from bimkit.cli.output import DataOption, data_root
from bimkit.errors import BimkitError
from bimkit.resources import DEPLOYS, INVENTORY


def classes() -> list[str]:
    """The deploys: `site` and one per device class."""
    return sorted(path.stem for path in DEPLOYS.glob("*.py") if not path.stem.startswith("_"))


def deploy(
    context: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="CLASS",
            help="site (default) or one device class: base, domain_controllers, log_servers, "
            "pbx, workstations, dr",
        ),
    ] = "site",
    data: DataOption = None,
) -> None:
    """Apply a deploy to the estate's hosts; options after CLASS go to pyinfra (--dry, --limit)."""
    if name not in classes():
        raise BimkitError(f"deploy: no deploy `{name}`; deploys: {', '.join(classes())}")
    root = data_root(data)
    argv = [sys.executable, "-m", "pyinfra", str(INVENTORY), str(DEPLOYS / f"{name}.py")]
    if (root / "group_data").is_dir():
        argv += ["--group-data", str(root / "group_data")]
    argv += list(context.args)
    finished = subprocess.run(argv, env={**os.environ, "BIMKIT_DATA": str(root)}, check=False)
    raise typer.Exit(finished.returncode)


def register(app: typer.Typer) -> None:
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(deploy)
