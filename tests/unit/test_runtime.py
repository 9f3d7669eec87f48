"""roles/dr_runtime: the host runtime as one versioned archive with its commands."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

import dr
from roles.dr_runtime import plan


def names(archive: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return opened.getnames()


def test_the_archive_holds_the_package_its_template_checks_and_version() -> None:
    runtime = plan.runtime()
    listed = names(runtime.archive)
    for name in ("dr/__init__.py", "dr/backup.py", "dr/drill/report.html.j2",
                 "dr/drill/checks/test_active_directory.py", "dr/VERSION"):  # fmt: skip
        assert name in listed
    assert not [name for name in listed if "__pycache__" in name]
    assert runtime.version.startswith(f"{dr.__version__}+")


def test_the_same_files_make_the_same_archive_and_version() -> None:
    first = plan.runtime()
    plan.runtime.cache_clear()
    again = plan.runtime()
    assert (first.version, first.archive) == (again.version, again.archive)


def test_any_changed_file_is_a_new_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "dr"
    subprocess.run(["cp", "-r", str(plan.PACKAGE_ROOT), str(copy)], check=True)
    monkeypatch.setattr(plan, "PACKAGE_ROOT", copy)
    plan.runtime.cache_clear()
    before = plan.runtime().version
    with open(copy / "drill" / "checks" / "test_active_directory.py", "a") as checks:
        checks.write("\n# an admin's extra check\n")
    plan.runtime.cache_clear()
    try:
        assert plan.runtime().version != before
    finally:
        plan.runtime.cache_clear()


def test_every_entry_point_has_a_command(tmp_path: Path) -> None:
    runtime = plan.runtime()
    assert sorted(runtime.commands) == sorted(f"/usr/local/sbin/{n}" for n in dr.ENTRY_POINTS)
    with tarfile.open(fileobj=io.BytesIO(runtime.archive)) as opened:
        opened.extractall(tmp_path, filter="data")
    # The host's plain interpreter, isolated (-I): no venv, no checkout on the path.
    for name, target in sorted(dr.ENTRY_POINTS.items()):
        script = runtime.commands[f"/usr/local/sbin/{name}"].replace(
            "/usr/local/lib/bimkit/current", str(tmp_path)
        )
        if name in ("bimkit-dr", "bimkit-drill"):
            continue  # python3-zstandard and python3-jinja2: on the DR host, not on this box
        ran = subprocess.run(["/usr/bin/python3", "-I", "-c", script], capture_output=True,
                             text=True, check=False, cwd="/")  # fmt: skip
        assert ran.returncode == 2, f"{name} ({target}): {ran.stderr}"
        assert name in ran.stderr, f"{name} shows its usage: {ran.stderr}"
