"""The evidence package: the answer, its seals and chain, and commands that verify it all with
nothing but sh, sha256sum, grep, cut and openssl. (The lab test runs them on a machine without
bimkit; here they run on this box.)"""

from __future__ import annotations

import datetime
import html
import io
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from dr.config import TimeStampAuthority
from dr.logs.evidence import NoEvidence, build
from dr.logs.jobs import Archive, seal
from dr.logs.verification import verify
from tests.unit.log_archives import ZONE, day, mirror, now, write_day

ADDRESS = "10.21.50.77"


@pytest.fixture
def sealed(tmp_path: Path, authority: TimeStampAuthority) -> tuple[Archive, datetime.datetime]:
    root = tmp_path / "remote"
    given = datetime.datetime.combine(day(2), datetime.time(14, 12), ZONE)
    start = int(given.timestamp())
    for offset in (3, 2, 1, 0):
        write_day(root, day(offset), {"zabita-ws01.log": "sshd: session opened\n"})
    write_day(root, day(2), {"dc1.leases": (
        f"{given.isoformat()} dc1 bimkit-dhcp: event=commit address={ADDRESS} "
        f"mac=52:54:00:12:34:56 hostname=zabita-pc7 start={start} valid=28800\n"
        f"{given.isoformat()} dc1 bimkit-dhcp: event=commit address=10.21.50.78 "
        f"mac=52:54:00:12:34:57 hostname=other start={start} valid=28800\n")})  # fmt: skip
    archive = Archive(root, ZONE, "log1.ad.example", authority)
    seal(archive, now())
    return archive, given + datetime.timedelta(minutes=5)


def package_of(
    archive: Archive, at: datetime.datetime, copy: Path, lang: str = "tr"
) -> tuple[str, dict[str, bytes]]:
    result = verify(archive.root, ZONE, now(), mirror(archive, copy))
    package = build(archive, ADDRESS, at, 86400, lang, now(), result, "Kayapınar Belediyesi")
    with tarfile.open(fileobj=io.BytesIO(package.archive)) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar if m.isfile()}  # fmt: skip
    return package.name, files


def commands_on_page(page: str) -> str:
    """The verification commands exactly as the handover record shows them."""
    match = re.search(r'<pre id="commands">(.*?)</pre>', page, re.DOTALL)
    assert match is not None, "the page shows its commands"
    return html.unescape(match[1])


def unpack(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def run_script(folder: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", script], cwd=folder, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin"})  # fmt: skip


def test_the_package_holds_the_answer_and_verifies_with_openssl_and_sha256sum_alone(
    sealed: tuple[Archive, datetime.datetime], tmp_path: Path
) -> None:
    archive, at = sealed
    name, files = package_of(archive, at, tmp_path / "copy")
    assert name == f"kanit-{ADDRESS}-{at:%Y%m%dT%H%M}"
    assert {"tutanak.html", "dogrula.sh", "SHA256SUMS", f"logs/{day(2)}/dc1.leases",
            f"logs/{day(2)}/SHA256SUMS"} <= set(files)  # fmt: skip
    assert f"logs/{day(2)}/zabita-ws01.log" not in files  # only the files that hold the answer
    links = sorted(n for n in files if n.startswith("chain/") and n.endswith(".txt"))
    assert links == [f"chain/000003-seal-{day(2)}.txt", f"chain/000004-seal-{day(1)}.txt"]
    page = files["tutanak.html"].decode()
    assert "Kayıt Teslim Tutanağı" in page and "52:54:00:12:34:56" in page
    assert commands_on_page(page) == files["dogrula.sh"].decode()
    folder = unpack(files, tmp_path / "handed-over")
    checked = run_script(folder, "dogrula.sh")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1] == "DOGRULANDI"
    assert f"address={ADDRESS} mac=52:54:00:12:34:56" in checked.stdout


@pytest.mark.parametrize("target", ["leases", "token", "link"])
def test_a_changed_byte_anywhere_fails_the_commands(
    sealed: tuple[Archive, datetime.datetime], tmp_path: Path, target: str
) -> None:
    archive, at = sealed
    _, files = package_of(archive, at, tmp_path / "copy")
    folder = unpack(files, tmp_path / "handed-over")
    path = {"leases": folder / "logs" / str(day(2)) / "dc1.leases",
            "token": folder / "chain" / f"000003-seal-{day(2)}.tsr",
            "link": folder / "chain" / f"000004-seal-{day(1)}.txt"}[target]  # fmt: skip
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01
    path.write_bytes(bytes(data))
    # Even with the package's own list rewritten to match, the seals give it away.
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    relative = str(path.relative_to(folder))
    digest = subprocess.run(["sha256sum", relative], cwd=folder, capture_output=True, text=True,
                            check=True).stdout.split()[0]  # fmt: skip
    (folder / "SHA256SUMS").write_text("".join(
        f"{digest}  {relative}\n" if line.endswith(f"  {relative}") else f"{line}\n"
        for line in sums))  # fmt: skip
    checked = run_script(folder, "dogrula.sh")
    assert checked.returncode == 1, checked.stderr
    assert checked.stderr.splitlines()[-1].startswith("HATA: "), checked.stderr


def test_english_on_request(sealed: tuple[Archive, datetime.datetime], tmp_path: Path) -> None:
    archive, at = sealed
    name, files = package_of(archive, at, tmp_path / "copy", "en")
    assert name.startswith("evidence-") and {"record.html", "verify.sh"} <= set(files)
    assert "Record Handover" in files["record.html"].decode()


def test_no_package_for_nothing_an_open_day_or_a_day_that_fails(
    sealed: tuple[Archive, datetime.datetime], tmp_path: Path
) -> None:
    archive, at = sealed
    copy = mirror(archive, tmp_path / "copy")
    result = verify(archive.root, ZONE, now(), copy)
    with pytest.raises(NoEvidence, match=r"no lease of 10\.21\.50\.99"):
        build(archive, "10.21.50.99", at, 86400, "tr", now(), result)
    today = datetime.datetime.combine(day(0), datetime.time(9), ZONE)
    line = (
        f"{today.isoformat()} dc1 bimkit-dhcp: event=commit address={ADDRESS} "
        f"mac=52:54:00:12:34:58 hostname=x start={int(today.timestamp())} valid=600\n"
    )
    write_day(archive.root, day(0), {"dc1.leases": line})
    with pytest.raises(NoEvidence, match=f"{day(0)} is not sealed yet"):
        build(archive, ADDRESS, today + datetime.timedelta(minutes=1), 86400, "tr", now(), result)
    leases = archive.root / str(day(2)) / "dc1.leases"
    leases.chmod(0o640)
    leases.write_text(leases.read_text().replace("zabita-pc7", "someone-else"))
    failing = verify(archive.root, ZONE, now(), copy)
    with pytest.raises(NoEvidence, match=r"does not verify for this answer: .*altered"):
        build(archive, ADDRESS, at, 86400, "tr", now(), failing)
