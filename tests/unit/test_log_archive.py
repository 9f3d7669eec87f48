"""The log archive's seal, verify, prune, status and search, against a real RFC 3161 TSA.

The TSA is bimkit's lab responder (`openssl ts -reply` behind HTTP) on loopback;
tokens are checked by `openssl ts -verify` against its CA, as on the log server.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bimkit.lab.tsa import LabTsa, make_tsa, server
from dr.config import LogsConfig, TimeStampAuthority, to_json
from dr.drill import log_seals
from dr.logs import cli
from dr.logs.archive import MANIFEST, TOKEN
from dr.logs.jobs import prune, seal_days, status, verify_days
from dr.logs.leases import who_had
from dr.paths import LOG_ARCHIVE

TODAY = cli.today_in("Europe/Istanbul")
"""As `bimkit-logs` sees it, so that the command and the fixtures agree on which days closed."""
ZONE = datetime.timezone(datetime.timedelta(hours=3))


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabTsa, str]]:
    lab_tsa = make_tsa(tmp_path_factory.mktemp("tsa"))
    http = server(lab_tsa, "127.0.0.1", 0)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield lab_tsa, f"http://127.0.0.1:{http.server_address[1]}/"
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture
def authority(tsa: tuple[LabTsa, str]) -> TimeStampAuthority:
    return TimeStampAuthority(tsa[1], str(tsa[0].ca_file), timeout_seconds=10)


def day(days_ago: int) -> str:
    return (TODAY - datetime.timedelta(days_ago)).isoformat()


def write_day(root: Path, day: str, files: dict[str, str]) -> Path:
    folder = root / day
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "remote"
    for offset in (3, 2, 1, 0):
        day = (TODAY - datetime.timedelta(offset)).isoformat()
        write_day(root, day, {"dc1.log": f"{day} dc1 samba: started\n",
                              "fs1.log": f"{day} fs1 smbd: share opened\n"})  # fmt: skip
    return root


def test_closed_days_are_sealed_and_today_is_not(
    archive: Path, authority: TimeStampAuthority
) -> None:
    results = seal_days(archive, TODAY, authority)
    assert [(r.day, r.outcome, r.files) for r in results] == [
        (day(3), "sealed", 2),
        (day(2), "sealed", 2),
        (day(1), "sealed", 2),
    ]
    assert not (archive / TODAY.isoformat() / TOKEN).exists()
    folder = archive / day(1)
    # The manifest is sha256sum's own format, and a sealed file is read-only.
    checked = subprocess.run(
        ["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True
    )
    assert checked.returncode == 0 and "dc1.log: OK" in checked.stdout
    assert (folder / "dc1.log").stat().st_mode & 0o777 == 0o440
    assert seal_days(archive, TODAY, authority) == []  # sealed days are left alone


def test_a_sealed_archive_verifies_day_by_day(archive: Path, authority: TimeStampAuthority) -> None:
    seal_days(archive, TODAY, authority)
    verdicts = verify_days(archive, TODAY, authority.ca_file)
    assert [(v.day, v.ok, v.files) for v in verdicts] == [
        (day(3), True, 2),
        (day(2), True, 2),
        (day(1), True, 2),
    ]
    assert all("GMT" in v.stamped_at for v in verdicts)


def test_one_flipped_byte_is_named(archive: Path, authority: TimeStampAuthority) -> None:
    seal_days(archive, TODAY, authority)
    target = archive / day(2) / "fs1.log"
    os.chmod(target, 0o640)
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    verdicts = {v.day: v for v in verify_days(archive, TODAY, authority.ca_file)}
    assert verdicts[day(2)].problems == [f"altered: {target}"]
    assert verdicts[day(3)].ok and verdicts[day(1)].ok


def test_missing_and_extra_files_and_a_lost_token_are_named(
    archive: Path, authority: TimeStampAuthority
) -> None:
    seal_days(archive, TODAY, authority)
    (archive / day(3) / "dc1.log").unlink()
    (archive / day(3) / "intruder.log").write_text("planted\n")
    (archive / day(1) / TOKEN).unlink()
    verdicts = {v.day: v for v in verify_days(archive, TODAY, authority.ca_file)}
    assert verdicts[day(3)].problems == [
        f"missing: {archive}/{day(3)}/dc1.log",
        f"extra: {archive}/{day(3)}/intruder.log",
    ]
    assert verdicts[day(1)].problems == [f"unsealed: no time stamp {archive}/{day(1)}/{TOKEN}"]


def test_a_rewritten_manifest_fails_its_token(archive: Path, authority: TimeStampAuthority) -> None:
    """Altering a file and its manifest line together is caught by the time stamp."""
    seal_days(archive, TODAY, authority)
    manifest = archive / day(2) / MANIFEST
    os.chmod(manifest, 0o640)
    manifest.write_text(manifest.read_text().replace("a", "b", 1))
    (verdict,) = verify_days(archive, TODAY, authority.ca_file, TODAY - datetime.timedelta(2),
                             TODAY - datetime.timedelta(2))  # fmt: skip
    assert len(verdict.problems) == 1
    assert "message imprint mismatch" in verdict.problems[0]


def test_a_token_from_another_tsa_is_refused(
    archive: Path, authority: TimeStampAuthority, tmp_path: Path
) -> None:
    seal_days(archive, TODAY, authority)
    stranger = make_tsa(tmp_path / "other-tsa")
    verdicts = verify_days(archive, TODAY, str(stranger.ca_file))
    assert verdicts and all(not v.ok and "does not verify" in v.problems[0] for v in verdicts)


def test_an_unreachable_tsa_leaves_the_day_unsealed_until_a_later_run(
    archive: Path, authority: TimeStampAuthority
) -> None:
    down = TimeStampAuthority("http://127.0.0.1:9/", authority.ca_file, timeout_seconds=2)
    results = seal_days(archive, TODAY, down)
    assert {r.outcome for r in results} == {"unsealed"}
    assert "TSA http://127.0.0.1:9/ unreachable" in results[0].detail
    assert status(archive, TODAY, 730).unsealed_days == [day(3), day(2), day(1)]
    assert {r.outcome for r in seal_days(archive, TODAY, authority)} == {"sealed"}
    assert status(archive, TODAY, 730).unsealed_days == []


def test_retention_deletes_only_older_days_and_logs_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "remote"
    for name in ("2024-12-02", "2024-12-03", "2024-12-04", "2026-12-03"):
        write_day(root, name, {"log1.log": "x\n"})
    with caplog.at_level("WARNING", logger="bimkit-logs"):
        removed = prune(root, datetime.date(2026, 12, 4), retention_days=730)
    # 730 days before 2026-12-04 is 2024-12-04: that day and younger stay.
    assert [p.day for p in removed] == ["2024-12-02", "2024-12-03"]
    assert sorted(p.name for p in root.iterdir()) == ["2024-12-04", "2026-12-03"]
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "deleted day 2024-12-02",
        "deleted day 2024-12-03",
    ]


def test_status_names_unsealed_and_missing_days(
    archive: Path, authority: TimeStampAuthority
) -> None:
    (archive / day(2)).rename(archive / "elsewhere")
    seal_days(archive, TODAY, authority)
    (archive / day(1) / TOKEN).unlink()
    state = status(archive, TODAY, 730)
    assert state.missing_days == [day(2)]
    assert state.unsealed_days == [day(1)]
    assert state.last_sealed_day == day(3)
    assert state.last_sealed_by_source == {"dc1": day(3), "fs1": day(3)}
    assert state.used_bytes > 0 and state.projected_bytes == state.used_bytes // 3 * 730


LEASE_LINES = """\
2026-12-03T09:00:01+03:00 dc1 bimkit-dhcp[812]: event=commit address=10.21.50.100 mac=52:54:00:aa:00:01 hostname=zabita-pc7 start={start} valid=4000 server=dc1
2026-12-03T09:30:00+03:00 dc1 bimkit-dhcp[812]: event=release address=10.21.50.100 mac=52:54:00:aa:00:01 hostname=zabita-pc7 start={release} valid=0 server=dc1
2026-12-03T10:00:00+03:00 dc1 bimkit-dhcp[812]: event=commit address=10.21.50.100 mac=52:54:00:bb:00:02 hostname= start={later} valid=4000 server=dc1
2026-12-03T10:20:00+03:00 dc2 bimkit-dhcp[640]: event=commit address=10.21.50.100 mac=52:54:00:bb:00:02 hostname= start={renewed} valid=4000 server=dc2
"""  # noqa: E501


def test_search_finds_who_had_the_address_then(tmp_path: Path) -> None:
    def at(hour: int, minute: int) -> datetime.datetime:
        return datetime.datetime(2026, 12, 3, hour, minute, tzinfo=ZONE)

    start, release, later, renewed = (
        int(at(h, m).timestamp()) for h, m in ((9, 0), (9, 30), (10, 0), (10, 20))
    )
    write_day(tmp_path, "2026-12-03", {"dc1.log": LEASE_LINES.format(
        start=start, release=release, later=later, renewed=renewed)})  # fmt: skip
    (first,) = who_had(tmp_path, "10.21.50.100", at(9, 15))
    assert (first.mac, first.hostname, first.where) == (
        "52:54:00:aa:00:01",
        "zabita-pc7",
        "2026-12-03/dc1.log:1",
    )
    assert first.end == at(9, 30).isoformat()  # released early
    assert who_had(tmp_path, "10.21.50.100", at(9, 45)) == []  # between the two leases
    (second,) = who_had(tmp_path, "10.21.50.100", at(10, 30))  # renewed: one lease, from dc2
    assert (second.mac, second.server, second.start) == (
        "52:54:00:bb:00:02",
        "dc2",
        at(10, 20).isoformat(),
    )
    assert who_had(tmp_path, "10.21.50.101", at(9, 15)) == []


def test_the_command_exits_1_on_a_bad_day_and_on_nothing_verified(
    archive: Path, authority: TimeStampAuthority, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "logs.json"
    config.write_text(to_json(LogsConfig(
        root=str(archive), timezone="Europe/Istanbul", retention_days=730,
        tsa=TimeStampAuthority(authority.url, authority.ca_file))))  # fmt: skip
    assert cli.main(["--config", str(config), "seal"]) == 0
    assert f"{day(1)}: sealed" in capsys.readouterr().out
    assert cli.main(["--config", str(config), "--json", "verify"]) == 0
    verdicts = json.loads(capsys.readouterr().out)
    assert verdicts and all(v["ok"] for v in verdicts)
    assert cli.main(["--config", str(config), "verify", "--from", "2030-01-01"]) == 1
    assert "nothing verified" in capsys.readouterr().out
    broken = next(archive.glob("*/dc1.log"))
    os.chmod(broken, 0o640)
    broken.write_text("rewritten\n")
    assert cli.main(["--config", str(config), "verify"]) == 1
    assert f"altered: {broken}" in capsys.readouterr().out


def test_a_broken_config_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "logs.json"
    config.write_text('{"root": "/var/log/remote"}')
    assert cli.main(["--config", str(config), "status"]) == 2


def test_the_drill_check_verifies_every_restored_day_and_names_an_altered_file(
    tmp_path: Path, authority: TimeStampAuthority
) -> None:
    restored = tmp_path / "restore"
    root = restored / LOG_ARCHIVE.lstrip("/")
    for days_ago in (2, 1):
        write_day(root, day(days_ago), {"dc1.log": f"{days_ago}\n", "fs1.log": "x\n"})
    seal_days(root, TODAY, authority)
    passed = log_seals.check(restored, authority.ca_file, TODAY)
    assert passed["ok"] and passed["args"]["days"] == 2 and passed["args"]["files"] == 4
    assert passed["detail"].endswith("all intact")
    altered = root / day(1) / "dc1.log"
    os.chmod(altered, 0o640)
    altered.write_text("rewritten\n")
    failed = log_seals.check(restored, authority.ca_file, TODAY)
    assert not failed["ok"] and failed["message"] == "days_failed"
    assert f"altered: {LOG_ARCHIVE}/{day(1)}/dc1.log" in failed["detail"]
    assert not log_seals.check(restored, None, TODAY)["ok"]
    nothing = log_seals.check(tmp_path / "empty", authority.ca_file, TODAY)
    assert not nothing["ok"] and nothing["message"] == "no_days_verified"
