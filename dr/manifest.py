"""Checksum manifests of backed-up files: written before a backup, checked after a restore.

    bimkit-manifest write OUTPUT PATH... [--exclude PATTERN]...

The backup agent runs `write` as the pre-hook of a service whose policy
verifies `checksums`; the manifest goes into the same snapshot. A restore
drill then checks every restored file against it (`verify`), or a sample.

A manifest maps each file's absolute path to [size, mtime_ns, sha256]. A
file whose size and mtime are those of the previous manifest keeps its
checksum, so only changed files are read, as restic itself decides what to
read. Beside it, `access` maps each path to [uid, gid, mode, acl]: `acl` is
the sha256 of the file's ACL attributes (POSIX ACL, Samba's NT ACL in
`security.NTACL`), empty when it has none, so that a drill can prove a
restored file keeps its owner and permissions. Files restic excludes (the
policy's patterns) are left out the same way. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import hashlib
import json
import os
import random
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

VERSION = 2
ACL_ATTRIBUTES = ("system.posix_acl_access", "system.posix_acl_default", "security.NTACL")
"""The extended attributes that hold a file's permissions beyond its mode."""


def excluded(path: str, patterns: Iterable[str]) -> bool:
    """restic's rule: a pattern without '/' matches any path component, else the path."""
    parts = path.split("/")
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + "/*"):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def walk(roots: Iterable[str], patterns: Iterable[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Regular files under `roots` that the excludes keep, with their stat."""
    patterns = list(patterns)
    for root in roots:
        for folder, folders, files in os.walk(root):
            folders[:] = sorted(f for f in folders if not excluded(f"{folder}/{f}", patterns))
            for name in sorted(files):
                path = os.path.join(folder, name)
                if excluded(path, patterns):
                    continue
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode):
                    yield path, info


_BUFFER = memoryview(bytearray(1 << 20))
"""One read buffer for every file: the many small files of a share make allocations count."""


def digest_of(descriptor: int) -> str:
    """sha256 of an open file. Serially: hashlib (OpenSSL) keeps pace with sha256sum,
    while threads only contend for the GIL on small files (measured)."""
    digest = hashlib.sha256()
    while count := os.readv(descriptor, [_BUFFER]):
        digest.update(_BUFFER[:count])
    return digest.hexdigest()


def sha256(path: str) -> str:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return digest_of(descriptor)
    finally:
        os.close(descriptor)


def access_of(path: str, info: os.stat_result) -> list[Any]:
    """[uid, gid, mode, sha256 of the ACL attributes, or "" without any]."""
    digest = hashlib.sha256()
    found = False
    for name in ACL_ATTRIBUTES:
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:  # absent, or a filesystem without xattrs
            continue
        found = True
        digest.update(name.encode() + b"\0" + len(value).to_bytes(4, "big") + value)
    return [
        info.st_uid,
        info.st_gid,
        stat.S_IMODE(info.st_mode),
        digest.hexdigest() if found else "",
    ]


def write(output: str, roots: list[str], patterns: list[str]) -> dict[str, Any]:
    """Write the manifest atomically; reuse checksums of unchanged files from the last one."""
    try:
        with open(output, encoding="utf-8") as handle:
            previous = json.load(handle).get("files", {})
    except (OSError, ValueError):
        previous = {}
    files: dict[str, list[Any]] = {}
    access: dict[str, list[Any]] = {}
    to_hash = []
    for path, info in walk(roots, patterns):
        access[path] = access_of(path, info)
        old = previous.get(path)
        if old and old[0] == info.st_size and old[1] == info.st_mtime_ns:
            files[path] = old
        else:
            files[path] = [info.st_size, info.st_mtime_ns, None]
            to_hash.append(path)
    for path in to_hash:
        files[path][2] = sha256(path)
    manifest = {
        "version": VERSION,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "roots": roots,
        "excludes": patterns,
        "files": files,
        "access": access,
    }
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    temporary = f"{output}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(manifest, handle)
    os.replace(temporary, output)
    return {"files": len(files), "hashed": len(to_hash)}


@dataclass
class Verification:
    """What a restore's files showed against the manifest."""

    listed: int = 0
    checked: int = 0
    bytes_checked: int = 0
    seconds: float = 0.0
    mismatched: list[str] = field(default_factory=list)
    """Same size and mtime as at backup time, other content: damage."""
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Size or mtime differ: changed between the manifest and restic reading it (not damage)."""
    access_checked: int = 0
    """Checked files whose owner, mode and ACL were compared (manifests from version 2)."""
    access_differs: list[str] = field(default_factory=list)
    """Restored with another owner, mode or ACL than at backup time."""

    def failures(self) -> int:
        return len(self.mismatched) + len(self.missing)

    def passed(self, tolerance_percent: float = 0.0) -> bool:
        return self.failures() <= self.checked * tolerance_percent / 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "checked": self.checked,
            "bytes_checked": self.bytes_checked,
            "seconds": round(self.seconds, 3),
            "mismatched": self.mismatched[:20],
            "missing": self.missing[:20],
            "changed": len(self.changed),
            "access_checked": self.access_checked,
            "access_differs": self.access_differs[:20],
        }


def verify(
    manifest: dict[str, Any],
    restored_root: str,
    sample_percent: float = 100.0,
    seed: str = "",
) -> Verification:
    """Check restored files (under `restored_root`) against the manifest.

    `sample_percent` < 100 checks a random sample, drawn with `seed` so that a
    report can be reproduced.
    """
    entries = sorted(manifest["files"].items())
    if sample_percent < 100:
        count = max(1, round(len(entries) * sample_percent / 100)) if entries else 0
        entries = sorted(random.Random(seed).sample(entries, count))
    access = manifest.get("access", {})
    result = Verification(listed=len(manifest["files"]))
    started = time.monotonic()
    root = restored_root.rstrip("/")
    for path, (size, mtime_ns, expected) in entries:
        try:  # one open per file: its size and mtime come from the same descriptor
            descriptor = os.open(root + path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            result.missing.append(path)
            continue
        try:
            info = os.fstat(descriptor)
            if info.st_size != size or info.st_mtime_ns != mtime_ns:
                result.changed.append(path)
                continue
            result.checked += 1
            result.bytes_checked += size
            if digest_of(descriptor) != expected:
                result.mismatched.append(path)
            if path in access:
                result.access_checked += 1
                if access_of(root + path, info) != access[path]:
                    result.access_differs.append(path)
        finally:
            os.close(descriptor)
    result.seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bimkit-manifest", description="Checksum manifest of backed-up files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    writing = commands.add_parser("write", help="write OUTPUT for PATH...")
    writing.add_argument("output")
    writing.add_argument("paths", nargs="+")
    writing.add_argument("--exclude", action="append", default=[])
    arguments = parser.parse_args(argv)
    done = write(arguments.output, arguments.paths, arguments.exclude)
    print(f"bimkit-manifest: {done['files']} files in {arguments.output} "
          f"({done['hashed']} read, the rest unchanged)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
