"""dr.sandbox on its own, as restore drills use it: an isolated machine, commands, teardown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bimkit.lab.state import LabPaths
from dr.process import CommandFailed
from dr.sandbox import machine
from dr.sandbox.image import ImageRecipe, ensure_image, image_dir
from dr.sandbox.machine import MachineSpec


@pytest.fixture
def isolated(tmp_path: Path) -> Iterator[MachineSpec]:
    if os.geteuid() != 0:
        pytest.fail("sandbox tests need root")
    image = ensure_image(LabPaths.from_env().cache, ImageRecipe())
    spec = MachineSpec(name="bimkit-sandbox-test", image=image, home=tmp_path / "machine")
    try:
        yield spec
    finally:
        machine.remove(spec)


def test_isolated_machine_boots_runs_commands_and_has_only_loopback(isolated: MachineSpec) -> None:
    machine.prepare(isolated)
    machine.start(isolated)
    assert machine.wait_booted(isolated) in ("running", "degraded")
    assert machine.execute(isolated, ["hostname"]).stdout.strip() == "bimkit-sandbox-test"
    links = machine.execute(isolated, ["ip", "-o", "link", "show"]).stdout.splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"]
    routes = machine.execute(isolated, ["ip", "-4", "route", "show"]).stdout
    assert routes.strip() == ""


def test_a_failing_command_inside_names_the_machine(isolated: MachineSpec) -> None:
    machine.prepare(isolated)
    machine.start(isolated)
    machine.wait_booted(isolated)
    with pytest.raises(CommandFailed, match=r"machine `bimkit-sandbox-test`: .* exit status 3"):
        machine.execute(isolated, ["sh", "-c", "exit 3"])


def test_removing_a_machine_leaves_no_process_mount_or_disk(isolated: MachineSpec) -> None:
    machine.prepare(isolated)
    pid = machine.start(isolated)
    machine.wait_booted(isolated)
    machine.remove(isolated)
    assert (
        not Path(f"/proc/{pid}/cmdline").exists() or not Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    assert not machine.is_mounted(isolated.root)
    assert not isolated.home.exists()


def test_a_failed_image_build_leaves_nothing_behind(tmp_path: Path) -> None:
    # Port 9 on loopback refuses at once: debootstrap fails without leaving the box.
    recipe = ImageRecipe(mirror="http://127.0.0.1:9/debian")
    with pytest.raises(CommandFailed, match="debootstrap"):
        ensure_image(tmp_path, recipe)
    final = image_dir(tmp_path, recipe)
    assert not final.exists()
    assert not final.with_name(final.name + ".building").exists()
