"""`bimkit-logs` as the timer and `bimkit logs` run it, and the drill's log-seals check."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from dr.config import LogsConfig, TimeStampAuthority, to_json
from dr.drill import log_seals
from dr.logs import chain as chains
from dr.logs import cli
from dr.logs.jobs import Archive, seal, seal_day
from dr.logs.verification import verify
from dr.paths import LOG_ARCHIVE
from tests.unit.log_archives import ZONE, archive_with_days, day, mirror, now

Run = tuple[Path, Path]


@pytest.fixture
def configured(tmp_path: Path, authority: TimeStampAuthority) -> tuple[Path, Archive]:
    archive = archive_with_days(tmp_path / "remote", authority)
    config = tmp_path / "logs.json"
    config.write_text(to_json(LogsConfig(
        root=str(archive.root), timezone="Europe/Istanbul", log_server=archive.log_server,
        tsa=authority, static_addresses={"10.21.17.10": "dc1 (primary_dc; merkez)"})))  # fmt: skip
    return config, archive


def test_seal_verify_and_status_exit_by_what_they_found(
    configured: tuple[Path, Archive], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, archive = configured
    # No DR host to copy the chain to: the days are sealed, and the run still fails.
    assert cli.main(["--config", str(config), "seal"]) == 1
    out = capsys.readouterr().out
    assert f"{day(1)}: sealed 000004-seal-{day(1)}" in out
    assert "DR host's copy: NOT MADE: no DR host is configured" in out
    copy = mirror(archive, tmp_path / "copy")
    assert cli.main(["--config", str(config), "--json", "verify", "--copy", str(copy)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and [d["day"] for d in result["days"]] == [str(day(n)) for n in (3, 2, 1)]
    assert all(d["ok"] and d["state"] == "sealed" for d in result["days"])
    assert cli.main(["--config", str(config), "verify", "--copy", str(copy),
                     "--from", "2030-01-01"]) == 1  # fmt: skip
    assert "nothing verified" in capsys.readouterr().out
    broken = archive.root / str(day(2)) / "dc1.log"
    os.chmod(broken, 0o640)
    broken.write_text("rewritten\n")
    assert cli.main(["--config", str(config), "verify", "--copy", str(copy)]) == 1
    assert f"  altered: {broken}" in capsys.readouterr().out
    assert cli.main(["--config", str(config), "--json", "status"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["last_sealed_day"] == str(day(1)) and state["chain_records"] == 4


def test_the_timer_seals_then_prunes_in_one_run(
    configured: tuple[Path, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = configured
    assert cli.main(["--config", str(config), "run"]) == 1  # no DR host for the copy
    out = capsys.readouterr().out
    assert f"{day(1)}: sealed" in out and out.rstrip().endswith("nothing past the retention")


def test_search_answers_a_fixed_address_from_the_data(
    configured: tuple[Path, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = configured
    assert cli.main(["--config", str(config), "--json", "search", "--ip", "10.21.17.10",
                     "--at", "2026-12-03T14:12"]) == 0  # fmt: skip
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"address": "10.21.17.10", "at": "2026-12-03T14:12:00+03:00",
                      "static": "dc1 (primary_dc; merkez)", "leases": []}  # fmt: skip
    assert cli.main(["--config", str(config), "search", "--ip", "10.21.50.9",
                     "--at", "2026-12-03T14:12"]) == 1  # fmt: skip


def test_acknowledge_refuses_a_day_that_is_there(
    configured: tuple[Path, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    config, archive = configured
    seal(archive, now())
    code = cli.main(["--config", str(config), "acknowledge", str(day(2)), "--reason", "x",
                     "--by", "ayse.yilmaz"])  # fmt: skip
    assert code == 1 and "there is no gap" in capsys.readouterr().out


def test_a_broken_config_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "logs.json"
    config.write_text('{"root": "/var/log/remote"}')
    assert cli.main(["--config", str(config), "status"]) == 2


def test_the_drill_check_verifies_the_restored_archive_against_the_chains_copy(
    tmp_path: Path, authority: TimeStampAuthority
) -> None:
    restored = tmp_path / "restore"
    root = restored / LOG_ARCHIVE.lstrip("/")
    archive = archive_with_days(root, authority, (2, 1))
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    taken = now()
    passed = log_seals.check(restored, copy, taken, "Europe/Istanbul")
    assert passed["ok"], passed
    assert (passed["args"]["days"], passed["args"]["files"], passed["args"]["records"]) == (2, 4, 3)
    altered = root / str(day(1)) / "dc1.log"
    os.chmod(altered, 0o640)
    altered.write_text("rewritten\n")
    failed = log_seals.check(restored, copy, taken, "Europe/Istanbul")
    assert not failed["ok"] and failed["message"] == "days_failed"
    assert f"altered: {LOG_ARCHIVE}/{day(1)}/dc1.log" in failed["detail"]
    assert log_seals.check(restored, None, taken, "Europe/Istanbul")["message"] == "no_chain_copy"
    nothing = log_seals.check(tmp_path / "empty", copy, taken, "Europe/Istanbul")
    assert not nothing["ok"]


def test_the_drill_takes_the_chain_as_of_the_snapshot(
    tmp_path: Path, authority: TimeStampAuthority
) -> None:
    """Records stamped after the backup are on the DR host's copy, not in the snapshot."""
    live = archive_with_days(tmp_path / "live" / LOG_ARCHIVE.lstrip("/"), authority, (2, 1))
    seal(live, now())
    taken = now()
    shutil.copytree(tmp_path / "live", tmp_path / "restore")  # the snapshot
    time.sleep(1.1)  # tokens carry whole seconds
    seal_day(live, chains.load(live.chain_dir), day(1), live.root / str(day(1)), now())
    copy = mirror(live, tmp_path / "copy")
    drilled = log_seals.check(tmp_path / "restore", copy, taken, "Europe/Istanbul")
    assert drilled["ok"], drilled["detail"]
    restored = tmp_path / "restore" / LOG_ARCHIVE.lstrip("/")
    without = verify(restored, ZONE, taken, copy)  # as the live archive would be judged
    assert (
        f"record 000004-seal-{day(1)} is gone from the log server (the DR host's copy has "
        "it)" in {p for d in without.days for p in d.problems}
    )
