"""The log archive's chain of seals: sealed, verified against the DR host's copy, attacked.

Real RFC 3161 tokens from bimkit's lab responder on loopback (tests/unit/conftest.py),
checked by `openssl ts -verify`; the DR host's copy is kept by the store's own code
(dr.logs.store.receive), as the lab's SSH push does.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from dr.config import TimeStampAuthority
from dr.logs import chain as chains
from dr.logs.archive import MANIFEST
from dr.logs.jobs import (
    Archive,
    ChainRefused,
    acknowledge,
    delete_days,
    seal,
    seal_day,
    status,
)
from dr.logs.leases import who_had
from dr.logs.timestamp import stamp
from dr.logs.verification import verify
from tests.unit.conftest import Authorities
from tests.unit.log_archives import (
    ZONE,
    archive_with_days,
    day,
    make_writable,
    mirror,
    now,
    write_day,
)


@pytest.fixture
def archive(tmp_path: Path, authority: TimeStampAuthority) -> Archive:
    return archive_with_days(tmp_path / "remote", authority)


def verified(archive: Archive, copy: Path | None, **options: object):  # type: ignore[no-untyped-def]
    at = options.pop("now", now())
    result = verify(archive.root, ZONE, at, copy, **options)  # type: ignore[arg-type]
    return result, {verdict.day: verdict for verdict in result.days}


def verified_ahead(archive: Archive, copy: Path):  # type: ignore[no-untyped-def]
    """As a log server whose clock agrees with a TSA three days ahead sees the days up to
    yesterday (the real one)."""
    return verified(archive, copy, last=day(1), now=now() + datetime.timedelta(days=3))


def test_the_chain_begins_with_its_genesis_and_links_every_sealed_day(archive: Archive) -> None:
    report = seal(archive, now())
    assert [(r.day, r.outcome, r.files) for r in report.results] == [
        (str(day(3)), "sealed", 2),
        (str(day(2)), "sealed", 2),
        (str(day(1)), "sealed", 2),
    ]
    chain = chains.load(archive.chain_dir)
    names = [entry.record.name for entry in chain.ordered()]
    assert names == [
        "000001-genesis",
        f"000002-seal-{day(3)}",
        f"000003-seal-{day(2)}",
        f"000004-seal-{day(1)}",
    ]
    genesis, first = chain.entries[1], chain.entries[2]
    assert genesis.record.fields["first-day"] == str(day(3))
    assert genesis.record.fields["log-server"] == "log1.ad.example"
    assert first.record.fields["previous"] == "000001-genesis"
    assert first.record.fields["previous-token-sha256"] == chains.sha256_hex(genesis.token or b"")
    assert first.record.fields["day-ends"] == f"{day(2)}T00:00:00+03:00"
    assert not (archive.root / str(day(0)) / MANIFEST).exists()  # today is open
    folder = archive.root / str(day(1))
    # The manifest is sha256sum's own format; the seal names its digest; files are read-only.
    checked = subprocess.run(
        ["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and "dc1.log: OK" in checked.stdout
    assert chain.entries[4].record.fields["manifest-sha256"] == chains.sha256_hex(
        (folder / MANIFEST).read_bytes()
    )
    assert (folder / "dc1.log").stat().st_mode & 0o777 == 0o440
    assert seal(archive, now()).results == []  # sealed days are left alone
    assert len(chains.load(archive.chain_dir).entries) == 4
    assert report.copied.error  # no DR host configured: said, and the run fails
    assert not report.ok


def test_a_sealed_archive_verifies_day_by_day_against_the_dr_hosts_copy(
    archive: Archive, tmp_path: Path
) -> None:
    seal(archive, now())
    result, _ = verified(archive, mirror(archive, tmp_path / "copy"))
    assert result.ok and result.records == 4 and result.records_on_dr_host == 4
    assert [(v.day, v.state, v.files) for v in result.days] == [
        (str(day(n)), "sealed", 2) for n in (3, 2, 1)
    ]
    assert all(v.stamped_at.endswith("+03:00") for v in result.days)  # the estate's zone
    without, _ = verified(archive, None)
    assert not without.ok
    assert without.chain_problems == ["no copy of the chain off the log server to compare with"]


def test_one_flipped_byte_is_named(archive: Archive, tmp_path: Path) -> None:
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    target = archive.root / str(day(2)) / "fs1.log"
    make_writable(target)
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    result, days = verified(archive, copy)
    assert not result.ok
    assert days[str(day(2))].problems == [f"altered: {target}"]
    assert days[str(day(3))].ok and days[str(day(1))].ok


def test_a_day_copied_over_another_is_named(archive: Archive, tmp_path: Path) -> None:
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    source, target = archive.root / str(day(3)), archive.root / str(day(2))
    for path in [*target.iterdir(), target]:
        make_writable(path)
    shutil.rmtree(target)
    shutil.copytree(source, target)
    _, days = verified(archive, copy)
    problems = days[str(day(2))].problems
    assert (
        f"{target / MANIFEST} is day {day(3)}'s sealed manifest: another day copied over "
        "this one" in problems
    )
    assert f"altered: {target / 'dc1.log'}" in problems
    assert days[str(day(3))].ok


def test_a_day_rewritten_and_sealed_again_is_named(archive: Archive, tmp_path: Path) -> None:
    """Root on the log server rewrites a sealed day and seals it again with bimkit's own code:
    the new seal can only follow the chain, and the first one stays on the DR host."""
    seal(archive, now())
    folder = archive.root / str(day(2))
    make_writable(folder / "dc1.log")
    (folder / "dc1.log").write_text("nothing happened that day\n")
    make_writable(folder / MANIFEST)
    chain = chains.load(archive.chain_dir)
    seal_day(archive, chain, day(2), folder, now())
    result, days = verified(archive, mirror(archive, tmp_path / "copy"))
    problems = days[str(day(2))].problems
    assert (
        f"sealed 2 times (000003-seal-{day(2)}, 000005-seal-{day(2)}): rewritten and sealed "
        "again?" in problems
    )
    assert f"{folder / MANIFEST} is not the manifest sealed for {day(2)}" in problems
    assert f"altered: {folder / 'dc1.log'}" in problems
    assert not result.ok


def test_a_record_rewritten_on_the_log_server_differs_from_the_dr_hosts_copy(
    archive: Archive, tmp_path: Path, authority: TimeStampAuthority
) -> None:
    """Root re-stamps a record with other content under its own name: the copy kept it."""
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    name = f"000003-seal-{day(2)}"
    text = (archive.chain_dir / f"{name}.txt").read_bytes().replace(b"files: 2", b"files: 1")
    for suffix in (".txt", ".tsr"):
        make_writable(archive.chain_dir / f"{name}{suffix}")
    (archive.chain_dir / f"{name}.txt").write_bytes(text)
    (archive.chain_dir / f"{name}.tsr").write_bytes(
        stamp(authority, archive.chain_dir / f"{name}.txt")
    )
    _, days = verified(archive, copy)
    assert (
        f"record {name}: its record and token on the log server differ from the DR host's "
        "copy (rewritten)"
    ) in days[str(day(2))].problems
    # Removing it altogether is no better.
    for suffix in (".txt", ".tsr", ".SHA256SUMS"):
        (archive.chain_dir / f"{name}{suffix}").unlink()
    _, days = verified(archive, copy)
    assert (
        f"record {name} is gone from the log server (the DR host's copy has it)"
        in days[str(day(2))].problems
    )


@pytest.mark.parametrize("which", [3, 2, 1], ids=["oldest", "middle", "newest"])
def test_a_deleted_day_is_named_wherever_it_was(
    archive: Archive, tmp_path: Path, which: int
) -> None:
    """Before the chain, deleting the oldest days was invisible: missing days were counted
    from the oldest day present."""
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    folder = archive.root / str(day(which))
    folder.chmod(0o750)
    shutil.rmtree(folder)
    result, days = verified(archive, copy)
    assert not result.ok
    assert days[str(day(which))].problems == [
        f"deleted: {folder} is gone, sealed by {days[str(day(which))].record}"
    ]


def sealed_without_yesterday(root: Path, authority: TimeStampAuthority, text: str) -> Archive:
    """An archive sealed while yesterday was absent, with yesterday's folder there now."""
    archive = archive_with_days(root, authority, (3, 2, 0))
    seal(archive, now())
    write_day(archive.root, day(1), {"dc1.log": text})
    return archive


def test_a_day_absent_at_genesis_and_sealed_three_days_late_fails_until_acknowledged(
    tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    """The TSA's clock runs three days ahead (libfaketime): a day that appears after the
    chain began is stamped more than 48 hours after it ended, with nothing recorded then."""
    archive = sealed_without_yesterday(tmp_path / "remote", authority, "back from hiding\n")
    genesis = chains.load(archive.chain_dir).entries[1].record
    assert genesis.fields["absent-days"] == str(day(1))
    late = Archive(archive.root, ZONE, archive.log_server, authorities(clock="+3d"))
    assert [r.outcome for r in seal(late, now()).results] == ["sealed"]
    copy = mirror(archive, tmp_path / "copy")
    result, days = verified_ahead(archive, copy)
    (problem,) = days[str(day(1))].problems
    assert problem.startswith(f"000004-seal-{day(1)} was stamped ")
    assert problem.endswith("hours after the day ended, with no reason recorded at the time")
    assert days[str(day(2))].ok and not result.ok
    record, _ = acknowledge(late, day(1), "log1 was off for the flood", "ayse.yilmaz", now())
    assert record.fields["what"] == "late"
    result, days = verified_ahead(archive, mirror(archive, copy))
    assert result.ok, days[str(day(1))].problems
    assert days[str(day(1))].note == (
        "sealed late; acknowledged by ayse.yilmaz: log1 was off for the flood"
    )


def test_a_late_seal_passes_with_the_failed_attempts_it_recorded_at_the_time(
    tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    archive = sealed_without_yesterday(tmp_path / "remote", authority, "the TSA was away\n")
    down = TimeStampAuthority("http://127.0.0.1:9/", authority.ca_file, timeout_seconds=2)
    (failed,) = seal(Archive(archive.root, ZONE, archive.log_server, down), now()).results
    assert failed.outcome == "unsealed" and "unreachable" in failed.detail
    late = Archive(archive.root, ZONE, archive.log_server, authorities(clock="+3d"))
    seal(late, now())
    result, days = verified_ahead(archive, mirror(archive, tmp_path / "copy"))
    assert result.ok, days[str(day(1))].problems
    assert days[str(day(1))].note.startswith("1 seal attempts failed from ")


def test_tokens_verify_as_they_were_valid_when_stamped_after_the_tsa_certificate_expired(
    tmp_path: Path, authorities: Authorities
) -> None:
    """The TSA's certificate runs out seconds after it stamped the archive."""
    lifetime = datetime.timedelta(seconds=4)
    expired = authorities("short-lived-signer", signer_lifetime=lifetime)
    ends = now() + lifetime
    archive = archive_with_days(tmp_path / "remote", expired, (1, 0))
    seal(archive, now())
    time.sleep(max(0.0, (ends - now()).total_seconds()) + 1.5)
    result, _ = verified(archive, mirror(archive, tmp_path / "copy"))
    assert result.ok, result.chain_problems
    entry = chains.load(archive.chain_dir).entries[2]
    checked_now = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(archive.chain_dir / f"{entry.record.name}.txt"),
            "-in",
            str(archive.chain_dir / f"{entry.record.name}.tsr"),
            "-CAfile",
            expired.ca_file,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked_now.returncode != 0, "checked at today's time, the token fails"


def test_a_new_tsa_ca_in_the_data_fails_no_old_day(
    tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    archive = sealed_without_yesterday(tmp_path / "remote", authority, "the new TSA's\n")
    rolled = Archive(archive.root, ZONE, archive.log_server, authorities("new-ca"))
    seal(rolled, now())
    chain = chains.load(archive.chain_dir)
    assert len(chain.tsa_chains) == 2  # the archive keeps every chain it used
    assert {e.record.fields["tsa-chain-sha256"] for e in chain.ordered()} == set(chain.tsa_chains)
    result, _ = verified(archive, mirror(archive, tmp_path / "copy"))
    assert result.ok, result.chain_problems


def test_an_acknowledged_gap_passes_and_an_unacknowledged_one_fails(
    archive: Archive, tmp_path: Path
) -> None:
    gone = archive.root / str(day(2))
    shutil.rmtree(gone)
    seal(archive, now())
    result, days = verified(archive, mirror(archive, tmp_path / "copy"))
    assert days[str(day(2))].problems == [
        f"missing: no folder {gone}, no seal and no acknowledgement"
    ]
    assert status(archive, now()).missing_days == [str(day(2))]
    record, _ = acknowledge(archive, day(2), "log1's disk failed", "mehmet.kaya", now())
    result, days = verified(archive, mirror(archive, tmp_path / "copy"))
    assert result.ok
    verdict = days[str(day(2))]
    assert (verdict.state, verdict.record) == ("acknowledged", record.name)
    assert verdict.note == "acknowledged by mehmet.kaya: log1's disk failed"
    assert status(archive, now()).missing_days == []
    with pytest.raises(ChainRefused, match="acknowledged already"):
        acknowledge(archive, day(2), "again", "mehmet.kaya", now())
    with pytest.raises(ChainRefused, match="there is no gap"):
        acknowledge(archive, day(1), "hiding a sealed day", "mehmet.kaya", now())
    with pytest.raises(ChainRefused, match="is not a closed day"):
        acknowledge(archive, day(0), "today", "mehmet.kaya", now())
    with pytest.raises(ChainRefused, match="needs a reason"):
        acknowledge(archive, day(3), " \n ", "mehmet.kaya", now())


def test_an_unreachable_tsa_leaves_days_unsealed_in_order_until_a_later_run(
    archive: Archive, authority: TimeStampAuthority
) -> None:
    down = TimeStampAuthority("http://127.0.0.1:9/", authority.ca_file, timeout_seconds=2)
    report = seal(Archive(archive.root, ZONE, archive.log_server, down), now())
    assert {r.outcome for r in report.results} == {"unsealed"}
    assert "TSA http://127.0.0.1:9/ unreachable" in report.results[0].detail
    assert chains.load(archive.chain_dir).entries == {}  # not even the genesis
    assert status(archive, now()).unsealed_days == [str(day(n)) for n in (3, 2, 1)]
    assert {r.outcome for r in seal(archive, now()).results} == {"sealed"}
    assert status(archive, now()).unsealed_days == []


def test_a_crash_between_record_and_token_leaves_nothing_that_counts(archive: Archive) -> None:
    seal(archive, now())
    last = chains.load(archive.chain_dir).last()
    assert last is not None
    (archive.chain_dir / f"{last.record.name}.tsr").unlink()  # as if killed before the token
    write_day(archive.root, day(1), {})  # nothing new: the run only tidies
    seal(archive, now())
    names = [e.record.name for e in chains.load(archive.chain_dir).ordered()]
    assert names[-1] == f"000004-seal-{day(1)}", "the unstamped record was sealed again"


# -- what root on the log server could try (an attacker's review) -----------------------------


def ca_of(authority: TimeStampAuthority) -> bytes:
    return Path(authority.ca_file).read_bytes()


def test_a_tsa_of_roots_own_making_proves_nothing(
    archive: Archive, tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    """Root makes a TSA of its own (clock three years ahead) and records days as deleted."""
    seal(archive, now())
    rogue = Archive(archive.root, ZONE, archive.log_server, authorities("rogue", clock="+3y"))
    delete_days(rogue, [day(3)], now())
    copy = mirror(archive, tmp_path / "copy")
    trusted, _ = verified(archive, copy, trusted=ca_of(authority))
    problems = {p for d in trusted.days for p in d.problems}
    assert any("stamped under a TSA certificate chain the data does not name" in p
               for p in problems)  # fmt: skip
    assert any("after this host's clock" in p for p in problems)
    assert not trusted.ok


def test_a_failure_note_written_now_excuses_no_old_day(
    tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    """Root backdates a note of failed attempts for a day it brings in late: the DR host
    keeps the time it received the note, not the one the note claims."""
    archive = archive_with_days(tmp_path / "remote", authority, (5, 4, 2, 1, 0))
    seal(archive, now())
    write_day(archive.root, day(3), {"dc1.leases": "forged\n"})
    early = datetime.datetime.combine(day(2), datetime.time(1), ZONE)
    chains.write_failure(archive.chain_dir, day(3), early, "TSA unreachable (made up)")
    late = Archive(archive.root, ZONE, archive.log_server, authorities(clock="+3d"))
    seal(late, now())
    _, days = verified_ahead(archive, mirror(archive, tmp_path / "copy"))
    (problem,) = days[str(day(3))].problems
    assert "with no reason recorded at the time" in problem


def test_an_acknowledged_missing_day_sealed_later_is_late_all_the_same(
    tmp_path: Path, authorities: Authorities, authority: TimeStampAuthority
) -> None:
    archive = archive_with_days(tmp_path / "remote", authority, (3, 2, 0))
    seal(archive, now())
    acknowledge(archive, day(1), "log1 was off", "ayse.yilmaz", now())
    write_day(archive.root, day(1), {"dc1.leases": "new content\n"})
    late = Archive(archive.root, ZONE, archive.log_server, authorities(clock="+3d"))
    seal(late, now())
    _, days = verified_ahead(archive, mirror(archive, tmp_path / "copy"))
    assert any("with no reason recorded at the time" in p for p in days[str(day(1))].problems)


def test_crafted_chain_files_are_named_never_a_crash(archive: Archive, tmp_path: Path) -> None:
    """The store refuses them (tests/unit/test_log_store.py); on the log server they are
    named, and verification carries on."""
    seal(archive, now())
    copy = mirror(archive, tmp_path / "copy")
    crafted = {
        "000009-seal-2026-01-01.txt": b"bimkit-log-chain: 1\nsequence: \xc2\xb2\nkind: seal\n",
        "000010-seal-2026-01-02.txt": (
            b"bimkit-log-chain: 1\nsequence: 10\nkind: seal\nday: 2026-01-02\nfiles: x\n"
        ),
        "000004-acknowledge-2026-01-03.txt": (
            b"bimkit-log-chain: 1\nsequence: 4\nkind: acknowledge\nday: 2026-01-03\n"
        ),
    }
    for name, data in crafted.items():
        (archive.chain_dir / name).write_bytes(data)
    (archive.chain_dir / "000011-seal-2026-01-04.tsr").mkdir()
    result, _ = verified(archive, copy)
    problems = " | ".join(result.chain_problems)
    assert "unknown kind 'seal' or sequence" in problems
    assert "files is not a number" in problems
    assert "two records are numbered 000004" in problems
    assert not result.ok


def test_a_link_in_a_day_folder_is_named_and_never_read(archive: Archive, tmp_path: Path) -> None:
    seal(archive, now())
    forged = tmp_path / "forged.leases"
    forged.write_text("2026-12-03T09:00:00+03:00 dc1 bimkit-dhcp: event=commit address=10.21.50.9"
                      f" mac=de:ad:be:ef:00:09 hostname=x start={int(now().timestamp())} "
                      "valid=3600\n")  # fmt: skip
    folder = archive.root / str(day(2))
    (folder / "dc1-ha.leases").symlink_to(forged)
    _, days = verified(archive, mirror(archive, tmp_path / "copy"))
    assert f"not a regular file: {folder / 'dc1-ha.leases'}" in days[str(day(2))].problems
    assert who_had(archive.root, "10.21.50.9", now().astimezone(ZONE), 86400) == []


def test_a_clock_ahead_seals_no_open_day_and_a_clock_behind_is_named(
    archive: Archive, tmp_path: Path
) -> None:
    ahead = now() + datetime.timedelta(days=1)  # today looks closed to this host
    report = seal(archive, ahead)
    today = [r for r in report.results if r.day == str(day(0))]
    assert today and today[0].outcome == "unsealed" and "has not ended" in today[0].detail
    assert not any(e.record.day == day(0) for e in chains.load(archive.chain_dir).ordered())
    behind = now() - datetime.timedelta(days=2)
    result = verify(archive.root, ZONE, behind, mirror(archive, tmp_path / "copy"))
    assert any("after this host's clock" in p for d in result.days for p in d.problems) or any(
        "after this host's clock" in p for p in result.chain_problems
    )
