"""Who had an address when: the lease events the DHCP servers sent on their own channel.

Each DHCP server's lease hook (roles/dhcp_server) hands every event to its
rsyslog on a socket only Kea may write, which sends it to the log server over
TLS with the server's own certificate, on a port that takes no other
certificate. The log server files them apart from all syslog, by the sender's
address as the data knows it:

    <root>/<day>/dc1.leases
    2026-12-04T15:20:00.123456+03:00 dc1 bimkit-dhcp[812]: event=commit
        address=10.21.50.100 mac=52:54:00:12:34:56 hostname=zabita-pc7 start=1764849600 valid=4000

`event` is `commit` (a lease given or renewed: it runs from `start` for
`valid` seconds), `release`, `expire` or `decline` (the lease ended at `start`).
A line in a host's syslog file that claims to be a lease is never one
(dr.logs.jobs counts it as a forgery attempt).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dr.logs.archive import LEASES_SUFFIX, day_folders

TAG = "bimkit-dhcp"
_FIELDS = re.compile(r"(\w+)=(\S*)")
ENDING_EVENTS = frozenset({"release", "expire", "decline"})


@dataclass(frozen=True)
class LeaseEvent:
    event: str
    address: str
    mac: str
    hostname: str
    start: int
    valid: int
    server: str
    """The DHCP server whose channel it came on (the file's name), never what the text says."""
    where: str
    """`<day>/<file>:<line>`, to show the admin the record itself."""


@dataclass(frozen=True)
class Lease:
    address: str
    mac: str
    hostname: str
    start: str
    end: str
    server: str
    where: str
    ended_by: str = ""
    """Where the release or expiry that ended it early is recorded, if one did."""


def parse_line(line: str, server: str, where: str) -> LeaseEvent | None:
    marker = line.find(f" {TAG}")
    if marker < 0:
        return None
    fields = dict(_FIELDS.findall(line[marker:]))
    try:
        return LeaseEvent(
            event=fields["event"],
            address=fields["address"],
            mac=fields.get("mac", ""),
            hostname=fields.get("hostname", ""),
            start=int(fields["start"]),
            valid=int(fields.get("valid", "0") or 0),
            server=server,
            where=where,
        )
    except (KeyError, ValueError):
        return None


def lease_files(folder: Path) -> list[str]:
    """The day's lease files: regular files only (a link is no record; `verify` names it)."""
    return sorted(
        e.name
        for e in folder.iterdir()
        if e.is_file() and not e.is_symlink() and e.name.endswith(LEASES_SUFFIX)
    )


def events_for(root: Path, address: str, days: Iterable[datetime.date]) -> Iterator[LeaseEvent]:
    """Lease events of `address` in the archive's files of `days`."""
    folders = day_folders(root)
    needle = f"address={address} "
    for day in sorted(set(days)):
        folder = folders.get(day)
        if folder is None:
            continue
        for name in lease_files(folder):
            server = name.removesuffix(LEASES_SUFFIX)
            with (folder / name).open(errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if needle in line:
                        event = parse_line(line, server, f"{day}/{name}:{number}")
                        if event is not None and event.address == address:
                            yield event


def who_had(
    root: Path, address: str, at: datetime.datetime, longest_lease_seconds: int
) -> list[Lease]:
    """The lease(s) that covered `address` at `at` (time-zone aware), most recent first.

    The records are searched from the longest lease time before `at` (a lease given
    then may still run) to the day after.
    """
    when = int(at.timestamp())
    since = (at - datetime.timedelta(seconds=longest_lease_seconds)).date()
    days = [since + datetime.timedelta(n) for n in range((at.date() - since).days + 2)]
    events = sorted(events_for(root, address, days), key=lambda e: e.start)
    found: dict[str, Lease] = {}
    for event in events:
        if event.event != "commit" or not event.start <= when < event.start + event.valid:
            continue
        end, ended_by = event.start + event.valid, ""
        for later in events:  # a release or expiry of the same client ends it early
            if (
                later.event in ENDING_EVENTS
                and later.mac == event.mac
                and event.start <= later.start < end
            ):
                end, ended_by = later.start, later.where
        if when < end:  # events come oldest first: a renewal replaces the client's earlier one
            found[event.mac] = _lease(event, end, ended_by, at.tzinfo)
    return sorted(found.values(), key=lambda lease: lease.start, reverse=True)


def _lease(event: LeaseEvent, end: int, ended_by: str, zone: datetime.tzinfo | None) -> Lease:
    def local(seconds: int) -> str:
        return datetime.datetime.fromtimestamp(seconds, zone).isoformat()

    return Lease(
        event.address,
        event.mac,
        event.hostname,
        local(event.start),
        local(end),
        event.server,
        event.where,
        ended_by,
    )
