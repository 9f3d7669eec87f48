"""Who had an address when: DHCP lease events as the DCs log them to the archive.

The DHCP servers' lease hook (roles/dhcp_server) logs one line per event with
the tag `bimkit-dhcp`:

    ... dc1 bimkit-dhcp[812]: event=commit address=10.21.50.100 mac=52:54:00:12:34:56
        hostname=zabita-pc7 start=1764849600 valid=4000 server=dc1

`event` is `commit` (a lease given or renewed: it runs from `start` for
`valid` seconds), `release`, `expire` or `decline` (the lease ended at `start`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dr.logs.archive import day_files, day_folders

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


def parse_line(line: str, where: str) -> LeaseEvent | None:
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
            server=fields.get("server", ""),
            where=where,
        )
    except (KeyError, ValueError):
        return None


def events_for(root: Path, address: str, days: Iterable[datetime.date]) -> Iterator[LeaseEvent]:
    """Lease events of `address` in the archive's files of `days`."""
    folders = day_folders(root)
    needle = f"address={address} "
    for day in sorted(set(days)):
        folder = folders.get(day)
        if folder is None:
            continue
        for name in day_files(folder):
            with (folder / name).open(errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if needle in line and TAG in line:
                        event = parse_line(line, f"{day}/{name}:{number}")
                        if event is not None and event.address == address:
                            yield event


def who_had(root: Path, address: str, at: datetime.datetime, lease_days: int = 2) -> list[Lease]:
    """The lease(s) that covered `address` at `at`, most recent first.

    A lease found in the archive is searched from `lease_days` before `at`
    (leases are renewed well within a day) to the day after.
    """
    when = int(at.timestamp())
    local_day = at.date()
    days = [local_day + datetime.timedelta(n) for n in range(-lease_days, 2)]
    events = sorted(events_for(root, address, days), key=lambda e: e.start)
    found: dict[str, Lease] = {}
    for event in events:
        if event.event != "commit" or not event.start <= when < event.start + event.valid:
            continue
        end = event.start + event.valid
        for later in events:  # a release or expiry of the same client ends it early
            if (
                later.event in ENDING_EVENTS
                and later.mac == event.mac
                and event.start <= later.start
            ):
                end = min(end, later.start)
        if when < end:  # events come oldest first: a renewal replaces the client's earlier one
            found[event.mac] = _lease(event, end, at.tzinfo)
    return sorted(found.values(), key=lambda lease: lease.start, reverse=True)


def _lease(event: LeaseEvent, end: int, zone: datetime.tzinfo | None) -> Lease:
    def local(seconds: int) -> str:
        return datetime.datetime.fromtimestamp(seconds, zone).isoformat()

    return Lease(event.address, event.mac, event.hostname, local(event.start), local(end),
                 event.server, event.where)  # fmt: skip
