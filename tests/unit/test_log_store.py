"""The chain's copy on the DR host: files are added, never changed or deleted.

`bimkit-log-store` runs as sshd's forced command in the lab; here its code and the
command itself run on a folder.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from dr.logs.store import export, listing, receive
from tests.conftest import REPO

RECORD = "000001-genesis.txt"


def tar_of(files: dict[str, bytes], directory: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if directory:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    return buffer.getvalue()


def test_new_files_are_kept_read_only_and_never_replaced(tmp_path: Path) -> None:
    mislabelled = "tsa-" + "a" * 64 + ".pem"
    said, refused = receive(tmp_path, tar_of({RECORD: b"first\n", mislabelled: b"x"}))
    assert refused == [mislabelled] and said == [
        f"added {RECORD}",
        f"refused {mislabelled}: its content is not the chain its name says",
    ]
    assert (tmp_path / RECORD).read_bytes() == b"first\n"
    assert (tmp_path / RECORD).stat().st_mode & 0o777 == 0o444
    said, refused = receive(tmp_path, tar_of({RECORD: b"first\n"}))
    assert refused == [] and said == [f"kept {RECORD} (already here)"]
    said, refused = receive(tmp_path, tar_of({RECORD: b"rewritten\n"}))
    assert refused == [RECORD]
    assert said == [f"refused {RECORD}: a file of that name exists with other content"]
    assert (tmp_path / RECORD).read_bytes() == b"first\n"


def test_only_chain_files_are_taken(tmp_path: Path) -> None:
    _, refused = receive(
        tmp_path,
        tar_of(
            {"../escape.txt": b"x", ".ssh/authorized_keys": b"x", "notes.txt": b"x"}, "000002-x"
        ),
    )
    assert sorted(refused) == sorted(
        ["../escape.txt", ".ssh/authorized_keys", "notes.txt", "000002-x"]
    )
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.txt").exists()


def test_the_forced_command_lists_receives_and_exports(tmp_path: Path) -> None:
    def store(request: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "SSH_ORIGINAL_COMMAND": request, "PYTHONPATH": str(REPO)}
        return subprocess.run(
            [sys.executable, "-m", "dr.logs.store", str(tmp_path)],
            input=data,
            env=env,
            capture_output=True,
            check=False,
        )

    assert store("receive", tar_of({RECORD: b"first\n"})).returncode == 0
    assert store("receive", tar_of({RECORD: b"second\n"})).returncode == 1
    assert store("list").stdout.decode() == listing(tmp_path)
    assert listing(tmp_path).endswith(f"  {RECORD}\n")
    exported = store("export").stdout
    assert exported == export(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        assert tar.getnames() == [RECORD]
    shell = store("sh -c 'rm -rf /'")
    assert shell.returncode == 2 and b"unknown request" in shell.stderr
