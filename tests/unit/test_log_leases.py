"""Who had an address when: only the DHCP servers' lease channel answers; forgeries are counted."""

from __future__ import annotations

import datetime
from pathlib import Path

from dr.config import TimeStampAuthority
from dr.logs import chain as chains
from dr.logs.jobs import Archive, Forgery, seal, status
from dr.logs.leases import who_had
from tests.unit.log_archives import ZONE, day, now, write_day

FIXED = datetime.timezone(datetime.timedelta(hours=3))
LEASES = """\
2026-12-03T09:00:01+03:00 dc1 bimkit-dhcp: event=commit address=10.21.50.100 mac=52:54:00:aa:00:01 hostname=zabita-pc7 start={start} valid=4000
2026-12-03T09:30:00+03:00 dc1 bimkit-dhcp: event=release address=10.21.50.100 mac=52:54:00:aa:00:01 hostname=zabita-pc7 start={release} valid=0
2026-12-03T10:00:00+03:00 dc1 bimkit-dhcp: event=commit address=10.21.50.100 mac=52:54:00:bb:00:02 hostname= start={later} valid=4000
"""  # noqa: E501
RENEWED = """\
2026-12-03T10:20:00+03:00 dc2 bimkit-dhcp: event=commit address=10.21.50.100 mac=52:54:00:bb:00:02 hostname= start={renewed} valid=4000 server=dc1
"""  # noqa: E501
FORGED = """\
2026-12-03T09:10:00+03:00 zabita-ws01 bimkit-dhcp: event=commit address=10.21.50.100 mac=de:ad:be:ef:00:01 hostname=forged start={start} valid=3600 server=dc1
2026-12-03T09:11:00+03:00 zabita-ws01 sshd[901]: Invalid user event=commit address=10.21.50.100 mac=de:ad:be:ef:00:02 from 10.21.50.11
"""  # noqa: E501


def at(hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 3, hour, minute, tzinfo=FIXED)


def test_only_the_lease_channel_answers_and_the_server_is_the_channels(tmp_path: Path) -> None:
    start, release, later, renewed = (
        int(at(h, m).timestamp()) for h, m in ((9, 0), (9, 30), (10, 0), (10, 20))
    )
    write_day(
        tmp_path,
        "2026-12-03",
        {
            "dc1.leases": LEASES.format(start=start, release=release, later=later),
            "dc2.leases": RENEWED.format(renewed=renewed),
            # What anyone can write to syslog never becomes a lease.
            "zabita-ws01.log": FORGED.format(start=start),
            "dc1.log": FORGED.format(start=start),
        },
    )
    (first,) = who_had(tmp_path, "10.21.50.100", at(9, 15), 86400)
    assert (first.mac, first.hostname, first.server, first.where) == (
        "52:54:00:aa:00:01",
        "zabita-pc7",
        "dc1",
        "2026-12-03/dc1.leases:1",
    )
    assert first.end == at(9, 30).isoformat()  # released early
    assert first.ended_by == "2026-12-03/dc1.leases:2"
    assert who_had(tmp_path, "10.21.50.100", at(9, 45), 86400) == []  # between the two leases
    # Renewed on dc2 (which says `server=dc1`): one lease, from the channel it came on.
    (second,) = who_had(tmp_path, "10.21.50.100", at(10, 30), 86400)
    assert (second.mac, second.server, second.start) == (
        "52:54:00:bb:00:02",
        "dc2",
        at(10, 20).isoformat(),
    )
    assert who_had(tmp_path, "10.21.50.101", at(9, 15), 86400) == []


def test_a_lease_of_six_days_is_found_on_its_fifth_day(tmp_path: Path) -> None:
    given = datetime.datetime(2026, 11, 28, 9, 0, tzinfo=FIXED)
    write_day(
        tmp_path,
        "2026-11-28",
        {
            "dc1.leases": (
                f"2026-11-28T09:00:00+03:00 dc1 bimkit-dhcp: event=commit address=10.21.50.77 "
                f"mac=52:54:00:06:06:06 hostname=uzun-kira start={int(given.timestamp())} "
                f"valid={6 * 86400}\n"
            )
        },
    )
    fifth_day = given + datetime.timedelta(days=4, hours=6)
    (lease,) = who_had(tmp_path, "10.21.50.77", fifth_day, longest_lease_seconds=7 * 86400)
    assert (lease.mac, lease.end) == (
        "52:54:00:06:06:06",
        (given + datetime.timedelta(days=6)).isoformat(),
    )
    # Looking back only as far as the old fixed two days, it was missed.
    assert who_had(tmp_path, "10.21.50.77", fifth_day, longest_lease_seconds=2 * 86400) == []


def test_lease_lines_in_syslog_are_counted_as_forgeries_by_source(
    tmp_path: Path, authority: TimeStampAuthority
) -> None:
    root = tmp_path / "remote"
    forged = FORGED.format(start=0)
    for offset in (2, 1, 0):
        write_day(
            root,
            day(offset),
            {
                "zabita-ws01.log": forged,
                "core-sw1.log": forged[:200],
                "dc1.leases": LEASES.format(start=1, release=2, later=3),
            },
        )
    archive = Archive(root, ZONE, "log1.ad.example", authority)
    seal(archive, now())
    sealed = chains.load(archive.chain_dir).entries[2].record
    assert sealed.fields["lease-like-lines"] == "core-sw1=1 zabita-ws01=2"
    found = status(archive, now()).lease_forgeries
    assert found == [
        Forgery(str(day(n)), source, lines)
        for n in (2, 1, 0)
        for source, lines in (("core-sw1", 1), ("zabita-ws01", 2))
    ]
