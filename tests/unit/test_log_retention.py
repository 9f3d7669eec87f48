"""Retention of the log archive: two calendar years, recorded in the chain, never on a bad clock."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from dr.config import TimeStampAuthority
from dr.logs import chain as chains
from dr.logs import jobs
from dr.logs.archive import day_folders, expired_days, years_before
from dr.logs.jobs import Archive, ChainRefused, delete_days, prune, seal
from dr.logs.verification import verify
from tests.unit.log_archives import ZONE, day, mirror, now, today, write_day

IN_SYNC = (True, "chrony follows 10.21.17.10 (stratum 11)")


def test_two_calendar_years_keep_the_same_date_two_years_before() -> None:
    days = [datetime.date(2024, 12, d) for d in (5, 6, 7, 8)]
    assert expired_days(days, datetime.date(2026, 12, 7), 2) == days[:2]
    assert years_before(datetime.date(2028, 2, 29), 2) == datetime.date(2026, 2, 28)
    assert years_before(datetime.date(2026, 12, 7), 2) == datetime.date(2024, 12, 7)


@pytest.fixture
def old_archive(tmp_path: Path, authority: TimeStampAuthority) -> Archive:
    """Two days past the retention, then the last three days, sealed."""
    root = tmp_path / "remote"
    oldest_kept = years_before(today(), 2)
    for when in (
        oldest_kept - datetime.timedelta(2),
        oldest_kept - datetime.timedelta(1),
        oldest_kept,
        day(2),
        day(1),
        day(0),
    ):
        write_day(root, when, {"log1.log": f"{when}\n"})
    archive = Archive(root, ZONE, "log1.ad.example", authority)
    seal(archive, now())
    return archive


def test_days_past_two_calendar_years_go_recorded_first_in_the_chain(
    old_archive: Archive, tmp_path: Path
) -> None:
    oldest_kept = years_before(today(), 2)
    pruned = prune(old_archive, now(), IN_SYNC)
    gone = [str(oldest_kept - datetime.timedelta(n)) for n in (2, 1)]
    assert pruned.days == gone and pruned.files == 2
    assert sorted(map(str, day_folders(old_archive.root)))[0] == str(oldest_kept)
    record = chains.load(old_archive.chain_dir).entries[int(pruned.record[:6])].record
    assert (record.kind, record.fields["days"]) == ("prune", " ".join(gone))
    result = verify(old_archive.root, ZONE, now(), mirror(old_archive, tmp_path / "copy"))
    verdicts = {v.day: v for v in result.days}
    assert all(verdicts[d].state == "pruned" and verdicts[d].ok for d in gone)
    assert verdicts[str(oldest_kept)].ok
    assert prune(old_archive, now(), IN_SYNC).days == []  # nothing more to go


def test_a_day_deleted_before_its_time_fails_verification(
    old_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root on the log server writes a prune record of its own for a young day: bimkit's
    refusal taken out of its copy of the code, the genuine TSA stamps whatever it is sent."""
    with pytest.raises(ChainRefused, match="younger than 2 calendar years"):
        delete_days(old_archive, [day(2)], now())
    monkeypatch.setattr(jobs, "refused_by_the_stamp", lambda *_: None)
    delete_days(old_archive, [day(2)], now())
    result = verify(old_archive.root, ZONE, now(), mirror(old_archive, tmp_path / "copy"))
    (verdict,) = [v for v in result.days if v.day == str(day(2))]
    assert verdict.state == "pruned"
    assert verdict.problems == [
        f"{verdict.record} deleted {day(2)} before 2 calendar years had passed"
    ]


def test_prune_refuses_a_clock_set_a_year_ahead(
    tmp_path: Path, authority: TimeStampAuthority
) -> None:
    root = tmp_path / "remote"
    for offset in range(730):  # a folder for every day of two years, as a real archive has
        (root / str(day(offset))).mkdir(parents=True)
    archive = Archive(root, ZONE, "log1.ad.example", authority)
    ahead = now() + datetime.timedelta(days=365)
    with pytest.raises(
        ChainRefused,
        match=r"nothing deleted: 36\d days .* would go at once, more "
        r"than 7: a clock that jumped ahead\?",
    ):
        prune(archive, ahead, IN_SYNC)
    assert len(day_folders(root)) == 730


def test_prune_refuses_a_clock_behind_the_newest_day_or_not_synchronised(
    old_archive: Archive,
) -> None:
    behind = now() - datetime.timedelta(days=1)  # still one day past the retention
    with pytest.raises(ChainRefused, match="lies after today"):
        prune(old_archive, behind, IN_SYNC)
    with pytest.raises(ChainRefused, match=r"the clock is not synchronised \(chrony reports"):
        prune(old_archive, now(), (False, "chrony reports `Not synchronised`"))
    assert len(day_folders(old_archive.root)) == 6


def test_the_tsas_time_stops_a_prune_when_this_hosts_clock_runs_ahead(
    old_archive: Archive,
) -> None:
    """chrony says "Normal" yet the clock is five days ahead (a DC's clock moved): the prune
    record's own stamp shows the days are too young, and nothing goes."""
    ahead = now() + datetime.timedelta(days=5)
    with pytest.raises(ChainRefused, match=r"younger than 2 calendar years; is this host's "
                                           r"clock ahead\? Nothing deleted"):  # fmt: skip
        prune(old_archive, ahead, IN_SYNC)
    assert len(day_folders(old_archive.root)) == 6
    last = chains.load(old_archive.chain_dir).last()
    assert last is not None and last.record.kind == "seal", "no prune record was kept"
