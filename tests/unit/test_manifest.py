"""dr.manifest: manifests at backup time, verification after a restore (real files)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from dr import manifest


def share(root: Path) -> Path:
    folder = root / "srv" / "shares"
    (folder / "fen" / "projeler").mkdir(parents=True)
    (folder / "fen" / "projeler" / "yol.dwg").write_bytes(b"cizim" * 1000)
    (folder / "zabita" / "tutanak.odt").parent.mkdir(parents=True)
    (folder / "zabita" / "tutanak.odt").write_text("Kayapınar zabıta tutanağı")
    (folder / "zabita" / "gecici.tmp").write_text("excluded")
    (folder / ".Trash-0" / "eski.txt").parent.mkdir()
    (folder / ".Trash-0" / "eski.txt").write_text("excluded")
    return folder


EXCLUDES = ["*.tmp", "~$*", ".Trash-*"]


def restore_copy(source: Path, target: Path) -> Path:
    """As restic restores: the absolute path under the target, times kept."""
    restored = target / str(source).lstrip("/")
    shutil.copytree(source, restored, copy_function=shutil.copy2)
    return target


def test_a_manifest_leaves_out_what_restic_excludes_and_reuses_unchanged_checksums(
    tmp_path: Path,
) -> None:
    folder = share(tmp_path)
    output = tmp_path / "manifest.json"
    assert manifest.write(str(output), [str(folder)], EXCLUDES) == {"files": 2, "hashed": 2}
    files = json.loads(output.read_text())["files"]
    assert sorted(Path(p).name for p in files) == ["tutanak.odt", "yol.dwg"]
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    (folder / "zabita" / "tutanak.odt").write_text("değişti")
    assert manifest.write(str(output), [str(folder)], EXCLUDES) == {"files": 2, "hashed": 1}


def test_a_faithful_restore_verifies_and_damage_is_named(tmp_path: Path) -> None:
    folder = share(tmp_path)
    output = tmp_path / "manifest.json"
    manifest.write(str(output), [str(folder)], EXCLUDES)
    listed = json.loads(output.read_text())
    target = restore_copy(folder, tmp_path / "restore")
    clean = manifest.verify(listed, str(target))
    assert (clean.checked, clean.failures(), clean.passed()) == (2, 0, True)
    assert clean.bytes_checked == 5000 + len("Kayapınar zabıta tutanağı".encode())

    damaged = target / str(folder).lstrip("/") / "fen" / "projeler" / "yol.dwg"
    times = os.stat(damaged)
    damaged.write_bytes(b"CIZIM" + b"cizim" * 999)  # same size
    os.utime(damaged, ns=(times.st_atime_ns, times.st_mtime_ns))  # same mtime: silent damage
    (target / str(folder).lstrip("/") / "zabita" / "tutanak.odt").unlink()
    found = manifest.verify(listed, str(target))
    assert found.mismatched == [str(folder / "fen" / "projeler" / "yol.dwg")]
    assert found.missing == [str(folder / "zabita" / "tutanak.odt")]
    assert not found.passed() and not found.passed(tolerance_percent=10)


def test_a_file_changed_while_the_backup_ran_is_not_called_damage(tmp_path: Path) -> None:
    folder = share(tmp_path)
    output = tmp_path / "manifest.json"
    manifest.write(str(output), [str(folder)], EXCLUDES)
    (folder / "zabita" / "tutanak.odt").write_text("yeni sürüm, daha uzun bir metin")
    target = restore_copy(folder, tmp_path / "restore")
    found = manifest.verify(json.loads(output.read_text()), str(target))
    assert (found.checked, found.changed, found.passed()) == (
        1,
        [str(folder / "zabita/tutanak.odt")],
        True,
    )


def test_a_sample_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    listed = {"files": {f"/srv/f{n}": [0, 0, "x"] for n in range(200)}}
    first = manifest.verify(listed, str(tmp_path), sample_percent=10, seed="2026-Q4")
    again = manifest.verify(listed, str(tmp_path), sample_percent=10, seed="2026-Q4")
    assert len(first.missing) == 20 and first.missing == again.missing
    assert first.listed == 200


def test_exclude_patterns_follow_restic() -> None:
    assert manifest.excluded("/srv/shares/a/b.tmp", ["*.tmp"])
    assert manifest.excluded("/srv/shares/.Trash-1000/x", [".Trash-*"])
    assert manifest.excluded("/srv/shares/cache/x", ["/srv/shares/cache"])
    assert not manifest.excluded("/srv/shares/tmp.txt", ["*.tmp"])


def posix_acl(group_id: int) -> bytes:
    """A POSIX ACL as the kernel stores it in `system.posix_acl_access`: owner rwx,
    owning group none, group `group_id` rwx, mask rwx, others none."""
    entries = [(0x01, 7, 0xFFFFFFFF), (0x04, 0, 0xFFFFFFFF), (0x08, 7, group_id),
               (0x10, 7, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)]  # fmt: skip
    blob = (2).to_bytes(4, "little")
    for tag, permissions, qualifier in entries:
        blob += tag.to_bytes(2, "little") + permissions.to_bytes(2, "little")
        blob += qualifier.to_bytes(4, "little")
    return blob


def test_a_restored_file_must_keep_its_owner_mode_and_acl(tmp_path: Path) -> None:
    folder = share(tmp_path)
    document = folder / "fen" / "projeler" / "yol.dwg"
    os.setxattr(document, "system.posix_acl_access", posix_acl(201107))
    output = folder.parent / "manifest.json"
    manifest.write(str(output), [str(folder)], EXCLUDES)
    recorded = json.loads(output.read_text())["access"][str(document)]
    assert recorded[:2] == [os.getuid(), os.getgid()] and recorded[3] != ""
    target = restore_copy(folder, tmp_path / "restore")  # copy2 keeps the xattrs
    restored = target / str(folder).lstrip("/")
    listed = json.loads(output.read_text())
    found = manifest.verify(listed, str(tmp_path / "restore"))
    assert (found.access_checked, found.access_differs) == (2, [])
    # A restore that lost the ACL, or the mode: named, though the content is intact.
    os.removexattr(restored / "fen" / "projeler" / "yol.dwg", "system.posix_acl_access")
    os.chmod(restored / "zabita" / "tutanak.odt", 0o666)
    found = manifest.verify(listed, str(tmp_path / "restore"))
    assert found.mismatched == [] and found.passed()
    expected = [str(document), str(folder / "zabita" / "tutanak.odt")]
    assert sorted(found.access_differs) == sorted(expected)
