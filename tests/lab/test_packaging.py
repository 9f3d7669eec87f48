"""bimkit as an admin installs it: a wheel, outside the checkout, deploying the lab.

`pip install` of the wheel goes into a folder of its own; the checkout is not
on the path and not the current folder, so every template, file and the
host runtime must come from the package itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bimkit.sites import copy_estate_data
from roles.dr_runtime.plan import runtime
from tests.conftest import REPO
from tests.lab.conftest import BIN, DeployTotals, run, totals


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    run(str(BIN / "pip"), "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO))
    target = tmp_path_factory.mktemp("site-packages")
    [wheel] = wheels.glob("bimkit-*.whl")
    run(str(BIN / "pip"), "install", "-q", "--no-deps", "--target", str(target), str(wheel))
    return target


def from_wheel(installed: Path, data: Path, *args: str) -> tuple[int, str]:
    code = (
        "import sys, bimkit; from bimkit.cli import main; "
        f"assert bimkit.__file__.startswith({str(installed)!r}), bimkit.__file__; main()"
    )
    result = run(
        sys.executable, "-c", code, *args,
        env={"PYTHONPATH": str(installed), "BIMKIT_LAB": "1"}, cwd=data, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_an_installed_wheel_deploys_one_device_class(
    first_deploy: DeployTotals, installed: Path, tmp_path: Path
) -> None:
    copy_estate_data(REPO, tmp_path)
    code, output = from_wheel(installed, tmp_path, "deploy", "dr", "--limit", "fs1", "-y")
    assert code == 0, output[-3000:]
    # The runtime the wheel builds from its own files is the version the checkout installed.
    assert f"bimkit host runtime {runtime().version}" in output
    done = totals(output)
    assert (done.changed, done.errors) == (0, 0) and done.unchanged > 0, output[-2000:]


def test_one_device_class_deploys_on_its_own(first_deploy: DeployTotals) -> None:
    result = run(
        str(BIN / "pyinfra"), "inventory.py", "deploys/dr.py", "--limit", "fs1", "-y",
        env={"BIMKIT_LAB": "1"},
    )  # fmt: skip
    done = totals(result.stdout + result.stderr)
    assert (done.changed, done.errors) == (0, 0), "a converged host: no change, no error"
    assert "bimkit host runtime" in done.output and "bimkit backup agent" in done.output
