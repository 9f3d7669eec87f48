"""The host runtime as one versioned package: its archive, its version, its commands (pure)."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dr
from dr.paths import BIN, CURRENT, LIBRARY

PACKAGE_ROOT = Path(dr.__file__).resolve().parent
"""The `dr` package as installed here: a checkout or a wheel, no matter which."""
PACKAGES = ("python3", "python3-cryptography", "python3-zstandard", "python3-jinja2")
"""What `dr` imports beyond the standard library, from Debian 13."""
VERSIONS = f"{LIBRARY}/versions"


@dataclass(frozen=True)
class Runtime:
    version: str
    """`dr.__version__` plus the archive's hash: any change of any file is a new version."""
    archive: bytes
    """tar.gz of the `dr` package, with `dr/VERSION`: the same bytes for the same files."""
    commands: dict[str, str]
    """Path in /usr/local/sbin -> the wrapper script that runs one entry point."""


def _files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE_ROOT.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix in (".py", ".j2", ".xml")
    )


def _add(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), 0o644, 0
    archive.addfile(info, io.BytesIO(content))


def _archive(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in sorted(files.items()):
            _add(archive, name, content)
    # mtime 0 in the gzip header too: the same files always make the same bytes.
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def wrapper(entry_point: str) -> str:
    """A console script for `module:function`, importing the current version."""
    module, function = entry_point.split(":")
    return (
        "#!/usr/bin/python3 -I\n"
        "# managed by bimkit — do not edit; the host runtime's entry point\n"
        "import sys\n\n"
        f"sys.path.insert(0, {CURRENT!r})\n"
        f"from {module} import {function}  # noqa: E402\n\n"
        f"sys.exit({function}())\n"
    )


@cache
def runtime() -> Runtime:
    """The package as it is in this checkout or installation."""
    files = {f"dr/{path.relative_to(PACKAGE_ROOT)}": path.read_bytes() for path in _files()}
    digest = hashlib.sha256()
    for name, content in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    version = f"{dr.__version__}+{digest.hexdigest()[:12]}"
    files["dr/VERSION"] = f"{version}\n".encode()
    commands = {f"{BIN}/{name}": wrapper(target) for name, target in dr.ENTRY_POINTS.items()}
    return Runtime(version, _archive(files), commands)
