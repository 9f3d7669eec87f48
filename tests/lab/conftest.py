"""Lab tier: real Debian machines booted on this box (needs root; a few minutes).

The session brings the example estate's lab up once and always takes it down
at the end, also when a test fails, so a second run starts clean.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bimkit.lab.state import LabPaths
from tests.conftest import REPO

BIN = Path(sys.executable).parent


LAST = "test_lab.py"
"""Its last tests take the lab down (and check that nothing is left): it runs after the rest."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.lab)
    items.sort(key=lambda item: item.path.name == LAST)


def run(
    *argv: str,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` exited {result.returncode}:\n"
            f"{error_lines(result.stdout + result.stderr)}{result.stdout[-3000:]}\n"
            f"{result.stderr[-3000:]}"
        )
    return result


def error_lines(output: str, before: int = 15, limit: int = 12_000) -> str:
    """Each line that reports an error, with the lines before it: a long run's tail (the
    results table) does not show why an operation failed."""
    lines = output.splitlines()
    shown = sorted({
        index
        for at, line in enumerate(lines) if re.search(r"error|failed|traceback", line, re.I)
        for index in range(max(0, at - before), at + 1)
    })  # fmt: skip
    text = "\n".join(lines[index] for index in shown)[:limit]
    return f"--- lines reporting errors ---\n{text}\n--- tail ---\n" if text else ""


def bimkit(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run(str(BIN / "bimkit"), *args, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DeployTotals:
    changed: int
    errors: int
    unchanged: int
    output: str

    @property
    def changed_operations(self) -> str:
        """The rows of pyinfra's results table whose operation changed a host: what a
        failed "no changes" assertion shows."""
        row = re.compile(r"^\s*(.+?)\s+\d+\s+(\d+)\s+(?:\d+|-)\s+(?:\d+|-)\s*$", re.MULTILINE)
        return "\n".join(
            f"{match[1]} (changed on {match[2]})"
            for match in row.finditer(self.output)
            if not match[1].startswith("Grand total")
        )


def deploy_site(*options: str, data: Path | None = None) -> DeployTotals:
    """`pyinfra inventory.py deploys/site.py -y` against the lab; its grand totals.

    `data`: a folder of estate data other than the repository's (BIMKIT_DATA).
    """
    env = {"BIMKIT_LAB": "1"}
    if data:
        env["BIMKIT_DATA"] = str(data)
    result = run(str(BIN / "pyinfra"), "inventory.py", "deploys/site.py", "-y", *options, env=env)
    return totals(result.stdout + result.stderr)


def totals(output: str) -> DeployTotals:
    """The grand totals of pyinfra's results table in `output`."""
    match = re.search(r"Grand total\s+\d+\s+(\S+)\s+(\S+)\s+(\S+)", output)
    assert match, f"no results table in pyinfra's output:\n{output[-2000:]}"
    changed, errors, unchanged = (0 if value == "-" else int(value) for value in match.groups())
    return DeployTotals(changed, errors, unchanged, output)


@pytest.fixture(scope="session")
def lab_paths() -> LabPaths:
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (they boot machines); run `./dev test` as root")
    return LabPaths.from_env()


def wall_minus_monotonic() -> float:
    """Constant while nobody steps the box's clock."""
    return time.time() - time.monotonic()


@pytest.fixture(scope="session")
def clock_at_start() -> float:
    return wall_minus_monotonic()


@pytest.fixture(scope="session")
def lab(lab_paths: LabPaths, clock_at_start: float) -> Iterator[LabPaths]:
    """The example estate's lab, up for the session, always down afterwards.

    BIMKIT_TEST_REUSE_LAB=1 (for developers, with -k) takes the running lab
    as it is and leaves it up.
    """
    if os.environ.get("BIMKIT_TEST_REUSE_LAB"):
        bimkit("lab", "up")
        yield lab_paths
        return
    bimkit("lab", "down")
    try:
        bimkit("lab", "up")
        yield lab_paths
    finally:
        bimkit("lab", "down", check=False)


@pytest.fixture(scope="session")
def first_deploy(lab: LabPaths) -> DeployTotals:
    return deploy_site()


def lab_secret_values() -> dict[str, str]:
    """Every secret the lab generated: name -> value."""
    folder = LabPaths.from_env().secrets
    return {path.name: path.read_text().strip() for path in folder.iterdir()}
