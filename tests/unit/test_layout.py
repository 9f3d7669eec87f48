"""What runs where: `dr/` stands alone on hosts; `bimkit/` never reaches into `roles/`.

ARCHITECTURE.md draws the layers; these tests keep the arrows pointing one way.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

DEBIAN_PACKAGES = {"cryptography", "zstandard", "jinja2"}
"""What dr/ may import besides the standard library: python3-cryptography, -zstandard, -jinja2."""


def imported(path: Path) -> set[str]:
    """Top-level names of every module `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("dr"), ids=lambda p: str(p.relative_to(REPO)))
def test_the_host_runtime_imports_only_itself_the_stdlib_and_debian_packages(path: Path) -> None:
    allowed = set(sys.stdlib_module_names) | DEBIAN_PACKAGES | {"dr", "__future__"}
    if "checks" in path.parts:
        allowed |= {"pytest"}  # python3-pytest, in the drill's sandbox image
    assert imported(path) - allowed == set()


@pytest.mark.parametrize("path", modules("bimkit"), ids=lambda p: str(p.relative_to(REPO)))
def test_the_control_side_uses_roles_only_for_the_cli_s_facts(path: Path) -> None:
    if "roles" in imported(path):  # the commands that ask hosts for the roles' facts
        assert path.relative_to(REPO).as_posix() in {
            "bimkit/cli/dc.py",
            "bimkit/cli/directory.py",
            "bimkit/cli/net.py",
        }


def test_every_package_travels_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for folder in ("bimkit", "roles", "dr")
        for path in (REPO / folder).rglob("__init__.py")
    }
    assert found <= listed
    assert {"bimkit._site_templates", "bimkit._deploys"} <= listed
