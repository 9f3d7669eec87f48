"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bimkit.sites import copy_estate_data

REPO = Path(__file__).resolve().parent.parent


def run_tool(
    argv: list[str], env: Mapping[str, str], cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one of bimkit's command-line tools as an admin would; never raises on failure."""
    return subprocess.run(
        argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def example_host_data() -> dict[str, dict[str, Any]]:
    """Every host of the example estate -> its inventory data, as the deploys get it."""
    from bimkit.inventory import plan_inventory
    from bimkit.model.load import load_estate

    groups = plan_inventory(load_estate(REPO))
    return {name: data for entries in groups.values() for name, data in entries}


def assert_golden(golden: Path, text: str) -> None:
    """`text` equals the golden file. With BIMKIT_UPDATE_GOLDEN=1 the file is rewritten and
    the test fails, so that an update never passes by comparing a file with itself."""
    if os.environ.get("BIMKIT_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
        pytest.fail(f"{golden} rewritten; review its diff, then run without BIMKIT_UPDATE_GOLDEN")
    assert text == golden.read_text(encoding="utf-8"), f"differs from {golden}"


class EstateData:
    """A copy of the example estate that a test may break, one file at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, name: str) -> Any:
        return yaml.safe_load((self.root / name).read_text(encoding="utf-8"))

    def write(self, name: str, document: Any) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")

    def edit(self, name: str, change: Callable[[Any], None]) -> None:
        document = self.read(name)
        change(document)
        self.write(name, document)


@pytest.fixture
def estate_data(tmp_path: Path) -> EstateData:
    copy_estate_data(REPO, tmp_path)
    return EstateData(tmp_path)
