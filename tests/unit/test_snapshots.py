"""dr.snapshots on a real repository made by restic 0.18 in the lab.

tests/unit/data/restic-repository holds the snapshot files of a throw-away
repository (password `bimkit-test-fixture`, nothing else in it), its master
key as `restic cat masterkey` printed it, and `restic snapshots --json`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dr import snapshots
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "unit" / "data" / "restic-repository"


def key() -> snapshots.MasterKey:
    return snapshots.MasterKey.from_json(json.loads((FIXTURE / "masterkey.json").read_text()))


def test_snapshots_read_from_files_equal_restics_own_listing() -> None:
    expected = json.loads((FIXTURE / "snapshots.json").read_text())
    assert snapshots.snapshots(str(FIXTURE / "repo"), key()) == expected
    assert [s["tags"] for s in expected] == [
        ["service=file-shares"],
        ["service=file-shares", "extra"],
    ]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "repo", tmp_path / "repo")
    return tmp_path / "repo"


def test_a_damaged_snapshot_file_is_named(copy: Path) -> None:
    victim = sorted((copy / "snapshots").iterdir())[0]
    content = bytearray(victim.read_bytes())
    content[40] ^= 0xFF
    victim.write_bytes(bytes(content))
    with pytest.raises(snapshots.Unreadable, match=f"{victim}: content does not match"):
        snapshots.snapshots(str(copy), key())


def test_a_wrong_master_key_fails_the_mac(copy: Path) -> None:
    wrong = snapshots.MasterKey(key().encrypt, key().mac_k, bytes(16))
    with pytest.raises(snapshots.Unreadable, match="MAC does not match"):
        snapshots.snapshots(str(copy), wrong)


def test_uncompressed_json_of_format_1_is_read_as_it_is() -> None:
    assert snapshots.unpacked(b'{"time": "x"}') == b'{"time": "x"}'
    with pytest.raises(ValueError, match="unknown encoding byte"):
        snapshots.unpacked(b"\x07abc")
