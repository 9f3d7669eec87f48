"""The chain's copy on the DR host: files are added in the chain's order, never changed.

`bimkit-log-store` runs as sshd's forced command in the lab; here its code and the
command itself run on a folder, fed with a real chain.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dr.config import TimeStampAuthority
from dr.logs import chain as chains
from dr.logs.jobs import Archive, seal
from dr.logs.store import export, listing, receive
from tests.conftest import REPO
from tests.unit.log_archives import archive_with_days, now


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


@pytest.fixture
def sealed(tmp_path: Path, authority: TimeStampAuthority) -> Archive:
    archive = archive_with_days(tmp_path / "remote", authority, (2, 1, 0))
    seal(archive, now())
    return archive


def files_of(archive: Archive) -> dict[str, bytes]:
    return {name: (archive.chain_dir / name).read_bytes()
            for name in chains.chain_files(archive.chain_dir)}  # fmt: skip


def test_the_chain_is_kept_read_only_in_its_order_and_never_replaced(
    sealed: Archive, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    files = files_of(sealed)
    said, refused = receive(copy, tar_of(files))
    assert refused == [] and len(said) == len(files)
    genesis = copy / "000001-genesis.txt"
    assert genesis.stat().st_mode & 0o777 == 0o444
    said, refused = receive(copy, tar_of({"000001-genesis.txt": files["000001-genesis.txt"]}))
    assert refused == [] and said == ["kept 000001-genesis.txt (already here)"]
    rewritten = files["000001-genesis.txt"].replace(b"first-day", b"first-day-x")
    said, refused = receive(copy, tar_of({"000001-genesis.txt": rewritten}))
    assert said == ["refused 000001-genesis.txt: a file of that name exists with other content"]
    assert genesis.read_bytes() == files["000001-genesis.txt"]


def test_a_record_out_of_order_or_numbered_twice_is_refused(
    sealed: Archive, tmp_path: Path
) -> None:
    """Root on the log server cannot slip a record in, skip a number, or give a number a
    second record (which loading would take in place of the first)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    files = files_of(sealed)
    last = chains.load(sealed.chain_dir).last()
    assert last is not None and last.record.sequence == 3
    early = {name: data for name, data in files.items() if not name.startswith("000003")}
    receive(copy, tar_of(early))
    text = files[f"{last.record.name}.txt"]
    twice = text.replace(b"kind: seal", b"kind: acknowledge")
    _, refused = receive(copy, tar_of({"000002-acknowledge-x.txt": twice}))
    assert refused == ["000002-acknowledge-x.txt"]
    skipped = text.replace(b"sequence: 3", b"sequence: 4")
    said, refused = receive(copy, tar_of({f"000004{last.record.name[6:]}.txt": skipped}))
    assert refused and "not the next record (number 000003 is)" in said[0]
    # A token under another name claims nothing: the record that follows the chain is taken.
    receive(copy, tar_of({"000003-prune.tsr": b"junk"}))
    said, refused = receive(copy, tar_of({n: d for n, d in files.items()
                                          if n.startswith("000003")}))  # fmt: skip
    assert refused == [], said


def test_only_chain_files_are_taken(tmp_path: Path) -> None:
    mislabelled = "tsa-" + "a" * 64 + ".pem"
    said, refused = receive(tmp_path, tar_of({
        "../escape.txt": b"x", ".ssh/authorized_keys": b"x", "notes.txt": b"x",
        "000001-genesis.txt\n": b"x", mislabelled: b"x"}, "000002-x"))  # fmt: skip
    assert sorted(refused) == sorted(["../escape.txt", ".ssh/authorized_keys", "notes.txt",
                                      "000001-genesis.txt\n", mislabelled, "000002-x"])  # fmt: skip
    assert f"refused {mislabelled}: its content is not the chain its name says" in said
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.txt").exists()
    note = "failure-2026-12-06-20261207T001502Z.txt"
    assert receive(tmp_path, tar_of({note: b"TSA unreachable\n"}))[1] == []


def test_the_forced_command_lists_receives_and_exports(sealed: Archive, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()

    def store(request: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "SSH_ORIGINAL_COMMAND": request, "PYTHONPATH": str(REPO)}
        return subprocess.run([sys.executable, "-m", "dr.logs.store", str(copy)], input=data,
                              env=env, capture_output=True, check=False)  # fmt: skip

    files = files_of(sealed)
    assert store("receive", tar_of(files)).returncode == 0
    assert store("receive", tar_of({"000001-genesis.txt": b"second\n"})).returncode == 1
    assert store("list").stdout.decode() == listing(copy)
    assert listing(copy).endswith("  tsa-" + sorted(files)[-1][4:] + "\n")
    exported = store("export").stdout
    assert exported == export(copy)
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        assert tar.getnames() == sorted(files)
    shell = store("sh -c 'rm -rf /'")
    assert shell.returncode == 2 and b"unknown request" in shell.stderr
