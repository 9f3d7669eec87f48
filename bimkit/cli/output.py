"""Shared Rich consoles and the option every command takes for the data root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from bimkit.model.estate import Estate
from bimkit.model.load import find_root, load_estate
from dr.restic import parse_time

console = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="BIMKIT_DATA",
        help="Folder with estate.yaml, sites/ and directory/ (default: found upwards from here).",
        show_default=False,
    ),
]


def data_root(data: Path | None) -> Path:
    return data if data is not None else find_root()


def load(data: Path | None) -> Estate:
    """The estate, or EstateInvalid (printed by `main` with every problem, exit 1)."""
    return load_estate(data_root(data))


def local_time(text: str | None, estate: Estate) -> str:
    """A time from a host's report (ISO 8601, any offset) in the estate's time zone, to the
    second, with its offset: `2026-12-04 13:15:02 +03:00`."""
    if not text:
        return "-"
    moment = parse_time(text).astimezone(ZoneInfo(estate.config.timezone))
    return (
        moment.strftime("%Y-%m-%d %H:%M:%S ")
        + moment.strftime("%z")[:3]
        + ":"
        + moment.strftime("%z")[3:]
    )
