"""What `bimkit-logs` does to the archive: seal closed days into the chain, acknowledge a
gap, prune past the retention, report status.

Every change to the chain happens under one lock, is stamped by the TSA, and
is then copied to the DR host (dr.logs.store). Each job returns plain results
(dataclasses) that the CLI prints or dumps as JSON; verification is in
dr.logs.verification.
"""

from __future__ import annotations

import datetime
import fcntl
import logging
import shutil
import tempfile
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dr.config import LogsConfig, SealStore, TimeStampAuthority
from dr.errors import DrError
from dr.logs import chain as chains
from dr.logs.archive import (
    LEASES_SUFFIX,
    MANIFEST,
    SYSLOG_SUFFIX,
    closed_days,
    day_end,
    day_files,
    day_folders,
    expired_days,
    folder_bytes,
    manifest_text,
    scan_files,
    write_atomically,
    years_before,
)
from dr.logs.chain import Chain, Record, keep_tsa_chain, one_line, render, sha256_hex
from dr.logs.store import StoreError, push
from dr.logs.timestamp import TokenInvalid, TsaUnreachable, stamp
from dr.logs.token import TokenUnreadable, read_reply

log = logging.getLogger("bimkit-logs")

LATE_AFTER = datetime.timedelta(hours=48)
"""A day stamped later than this after it ended needs a reason recorded at the time."""
PRUNE_AT_ONCE = 7
"""More days than this expiring in one run means the clock jumped, not a day passing."""


class ChainRefused(DrError):
    """A change to the chain that is not allowed (a prune on a wrong clock, a bad
    acknowledgement); says why."""


@dataclass(frozen=True)
class Archive:
    """One log archive and how its chain is kept."""

    root: Path
    zone: zoneinfo.ZoneInfo
    log_server: str
    authority: TimeStampAuthority
    store: SealStore | None = None
    retention_years: int = 2

    @classmethod
    def from_config(cls, config: LogsConfig, root: Path | None = None) -> Archive:
        return cls(
            root or Path(config.root),
            zoneinfo.ZoneInfo(config.timezone),
            config.log_server,
            config.tsa,
            config.store,
            config.retention_years,
        )

    @property
    def chain_dir(self) -> Path:
        return self.root / chains.FOLDER

    def today(self, now: datetime.datetime) -> datetime.date:
        return now.astimezone(self.zone).date()

    def local(self, moment: datetime.datetime) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="seconds")


@contextmanager
def locked(archive: Archive) -> Iterator[Chain]:
    """The chain, held against every other writer (the timer, an acknowledgement)."""
    archive.chain_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    with (archive.chain_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        chain = chains.load(archive.chain_dir)
        for name in chains.discard_unstamped(archive.chain_dir, chain):
            log.warning("removed %s: a record left without its time stamp", name)
        yield chain


def stamped_at(entry: chains.Entry) -> datetime.datetime | None:
    try:
        return read_reply(entry.token).stamped_at if entry.token else None
    except TokenUnreadable:
        return None


def append(
    archive: Archive,
    chain: Chain,
    kind: str,
    fields: list[tuple[str, str]],
    now: datetime.datetime,
    manifest: bytes | None = None,
) -> Record:
    """Stamp a new record after the chain's last and keep it; TsaUnreachable or TokenInvalid
    when the TSA gives no valid token (nothing is kept then)."""
    last = chain.last()
    ca = Path(archive.authority.ca_file).read_bytes()
    fields = [
        ("log-server", archive.log_server),
        ("timezone", str(archive.zone)),
        *fields,
        ("previous", last.record.name if last else chains.NO_PREVIOUS),
        (
            "previous-token-sha256",
            sha256_hex(last.token) if last and last.token else chains.NO_PREVIOUS,
        ),
        ("tsa-chain-sha256", sha256_hex(ca)),
        ("written-at", archive.local(now)),
    ]
    sequence = last.record.sequence + 1 if last else 1
    text = render(sequence, kind, fields)
    with tempfile.TemporaryDirectory(prefix="bimkit-record-") as work:
        draft = Path(work) / "record.txt"
        draft.write_bytes(text)
        token = stamp(archive.authority, draft)
    refused = refused_by_the_stamp(archive, chains.parse(text, "new record"),
                                   read_reply(token).stamped_at)  # fmt: skip
    if refused:
        raise ChainRefused(refused)
    keep_tsa_chain(archive.chain_dir, chain, ca)
    chains.write_entry(archive.chain_dir, text, token, manifest)
    record = chains.parse(text, "new record")
    chain.entries[sequence] = chains.Entry(record, text, token, manifest)
    log.info("chain: %s stamped", record.name)
    return record


def refused_by_the_stamp(archive: Archive, record: Record, when: datetime.datetime) -> str | None:
    """What the TSA's time forbids, whatever this host's clock says: sealing a day that has
    not ended, deleting a day younger than the retention. Nothing is kept or deleted then."""
    local = archive.local(when)
    if record.kind == "seal" and record.day and when < day_end(record.day, archive.zone):
        return (f"the TSA stamped {local}: {record.day} has not ended; is this host's clock "
                "ahead? Nothing sealed")  # fmt: skip
    oldest_kept = years_before(when.astimezone(archive.zone).date(), archive.retention_years)
    young = [day for day in record.days() if day >= oldest_kept]
    if record.kind == "prune" and young:
        return (f"the TSA stamped {local}: {young[0]} is younger than "
                f"{archive.retention_years} calendar years; is this host's clock ahead? "
                "Nothing deleted")  # fmt: skip
    return None


@dataclass(frozen=True)
class Copied:
    files: list[str] = field(default_factory=list)
    error: str = ""
    differing: list[str] = field(default_factory=list)
    """Files the DR host keeps with other content than this host: rewritten here."""


def copy_off(archive: Archive) -> Copied:
    """Send the DR host what it lacks; every failure is said, none raised."""
    if archive.store is None:
        return Copied(error="no DR host is configured to keep a copy of the chain")
    try:
        pushed = push(archive.store, archive.chain_dir)
    except StoreError as error:
        log.error("chain not copied to the DR host: %s", error)
        return Copied(error=str(error))
    for name in pushed.differing:
        log.error("chain: %s differs from the DR host's copy: rewritten on this host?", name)
    return Copied(pushed.sent, "", pushed.differing)


# -- sealing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SealResult:
    day: str
    outcome: str
    """sealed | unsealed (no valid token: retried next run)"""
    files: int = 0
    bytes: int = 0
    record: str = ""
    detail: str = ""


@dataclass(frozen=True)
class SealReport:
    results: list[SealResult]
    copied: Copied

    @property
    def ok(self) -> bool:
        return all(r.outcome == "sealed" for r in self.results) and not (
            self.copied.error or self.copied.differing
        )


def sealed_days(chain: Chain) -> dict[datetime.date, Record]:
    """Each sealed day's first seal."""
    found: dict[datetime.date, Record] = {}
    for entry in chain.ordered():
        day = entry.record.day
        if entry.record.kind == "seal" and day is not None:
            found.setdefault(day, entry.record)
    return found


def seal(archive: Archive, now: datetime.datetime) -> SealReport:
    """Seal every closed day not sealed yet, oldest first, each a record after the last.

    The first run begins the chain with its genesis. A day the TSA does not stamp
    stops the run (the chain is in order): it and the later days wait for the next.
    """
    today = archive.today(now)
    results: list[SealResult] = []
    with locked(archive) as chain:
        folders = day_folders(archive.root)
        try:
            if not chain.entries:
                append(archive, chain, "genesis", genesis_fields(folders, today), now)
            done = sealed_days(chain)
            waiting = [day for day in closed_days(folders, today) if day not in done]
            for index, day in enumerate(waiting):
                try:
                    results.append(seal_day(archive, chain, day, folders[day], now))
                except (TsaUnreachable, TokenInvalid, ChainRefused) as error:
                    _note_failure(archive, day, now, str(error))
                    log.error("day %s not sealed: %s", day, error)
                    results += [
                        SealResult(later.isoformat(), "unsealed", detail=str(error))
                        for later in waiting[index:]
                    ]
                    break
        except (TsaUnreachable, TokenInvalid) as error:  # the genesis
            log.error("the chain could not begin: %s", error)
            results += [
                SealResult(day.isoformat(), "unsealed", detail=str(error))
                for day in closed_days(folders, today)
            ]
        copied = copy_off(archive)
    return SealReport(results, copied)


def genesis_fields(
    folders: dict[datetime.date, Path], today: datetime.date
) -> list[tuple[str, str]]:
    """The chain's start: its first day, and the closed days there were then (sealed in the
    same run, however old: the logs were there before bimkit sealed them)."""
    first = min(folders, default=today)
    through = today - datetime.timedelta(1)
    absent = [d for d in _days(first, through) if d not in folders]
    fields = [("first-day", first.isoformat()), ("present-through", through.isoformat())]
    if absent:
        fields.append(("absent-days", " ".join(day.isoformat() for day in absent)))
    return fields


def present_at_genesis(genesis: Record) -> set[datetime.date]:
    first, through = genesis.date("first-day"), genesis.date("present-through")
    if first is None or through is None:
        return set()
    absent = set(genesis.dates("absent-days"))
    return {day for day in _days(first, through) if day not in absent}


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(n) for n in range((last - first).days + 1)]


def seal_day(
    archive: Archive, chain: Chain, day: datetime.date, folder: Path, now: datetime.datetime
) -> SealResult:
    names = day_files(folder)
    scans = scan_files(folder, names)
    size = sum((folder / name).stat().st_size for name in names)
    manifest = manifest_text({name: found.sha256 for name, found in scans.items()}).encode()
    write_atomically(folder / MANIFEST, manifest)
    suspicious = {
        name.removesuffix(SYSLOG_SUFFIX): found.lease_like_lines
        for name, found in scans.items()
        if found.lease_like_lines
    }
    fields = [
        ("day", day.isoformat()),
        ("day-ends", archive.local(day_end(day, archive.zone))),
        ("files", str(len(names))),
        ("bytes", str(size)),
        ("manifest-sha256", sha256_hex(manifest)),
    ]
    if suspicious:
        counts = " ".join(f"{source}={count}" for source, count in sorted(suspicious.items()))
        fields.append(("lease-like-lines", counts))
    failures = failure_notes(archive, day)
    if failures:
        # Why this seal may come late, in the words of the attempts that failed (whether that
        # excuses it is judged by when the DR host received their notes).
        (first, _), (last, error) = failures[0], failures[-1]
        fields += [
            ("failing-since", archive.local(first)),
            ("late-reason", one_line(f"{len(failures)} seal attempts failed from "
                                     f"{archive.local(first)} to {archive.local(last)}; last: "
                                     f"{error}")),
        ]  # fmt: skip
    record = append(archive, chain, "seal", fields, now, manifest)
    for name in names:  # the collector is done with a closed day; nobody writes it again
        (folder / name).chmod(0o440)
    log.info("day %s sealed: %d files, %d bytes (%s)", day, len(names), size, record.name)
    return SealResult(day.isoformat(), "sealed", len(names), size, record.name)


def failure_notes(archive: Archive, day: datetime.date) -> list[tuple[datetime.datetime, str]]:
    """(when, what) of each failed attempt to seal `day` noted here, oldest first."""
    found = []
    for name in chains.chain_files(archive.chain_dir):
        note = chains.FAILURE_FILE.fullmatch(name)
        if note and note["day"] == day.isoformat():
            at = datetime.datetime.strptime(note["at"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.UTC
            )
            found.append((at, (archive.chain_dir / name).read_text(errors="replace").strip()))
    return sorted(found)


def _note_failure(archive: Archive, day: datetime.date, now: datetime.datetime, error: str) -> None:
    """A note the DR host keeps with the time it received it: what excuses a late seal."""
    chains.write_failure(archive.chain_dir, day, now, error)


# -- acknowledging a gap -----------------------------------------------------------------


def acknowledge(
    archive: Archive, day: datetime.date, reason: str, by: str, now: datetime.datetime
) -> tuple[Record, Copied]:
    """Record in the chain who says why `day` is missing, or why it was sealed late."""
    reason, by = one_line(reason), one_line(by, 80)
    if not reason or not by:
        raise ChainRefused("an acknowledgement needs a reason and who gives it")
    with locked(archive) as chain:
        genesis = chain.entries.get(1)
        if genesis is None:
            raise ChainRefused(
                f"{archive.chain_dir}: the chain has not begun: nothing to acknowledge"
            )
        first = genesis.record.date("first-day") or archive.today(now)
        if not first <= day < archive.today(now):
            raise ChainRefused(f"{day} is not a closed day of the chain (it begins {first})")
        if any(e.record.kind == "acknowledge" and e.record.day == day for e in chain.ordered()):
            raise ChainRefused(f"{day} is acknowledged already")
        seals = [e for e in chain.ordered() if e.record.kind == "seal" and e.record.day == day]
        if seals:
            if not late_without_reason(seals[0], genesis.record, archive.zone, chain.failures):
                raise ChainRefused(f"{day} is sealed ({seals[0].record.name}): there is no gap")
            what = "late"
        elif (archive.root / day.isoformat()).exists():
            raise ChainRefused(
                f"{day} has its folder {archive.root / day.isoformat()}: seal it "
                "(`bimkit-logs seal`) rather than acknowledge it"
            )
        else:
            what = "missing"
        record = append(
            archive,
            chain,
            "acknowledge",
            [("day", day.isoformat()), ("what", what), ("by", by), ("reason", reason)],
            now,
        )
        return record, copy_off(archive)


def late_without_reason(
    entry: chains.Entry,
    genesis: Record,
    zone: zoneinfo.ZoneInfo,
    failures: dict[datetime.date, list[datetime.datetime]],
    first_seal: bool = True,
) -> datetime.timedelta | None:
    """How late a seal was stamped, when it is more than 48 hours after its day ended with
    no reason recorded at the time; None when it is on time or excused.

    Excused: the first seal of a day already there when the chain began, or a day whose
    failed seal attempts the DR host received within 48 hours of its end (`failures`: when
    each note reached the copy; the log server's own word for it counts for nothing).
    """
    day, when = entry.record.day, stamped_at(entry)
    if day is None or when is None:
        return None
    ended = day_end(day, zone)
    late = when - ended
    if late <= LATE_AFTER or (first_seal and day in present_at_genesis(genesis)):
        return None
    if any(told <= ended + LATE_AFTER for told in failures.get(day, [])):
        return None
    return late


# -- retention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    days: list[str]
    files: int
    bytes: int
    record: str = ""
    copied: Copied = field(default_factory=Copied)


def prune(
    archive: Archive,
    now: datetime.datetime,
    synchronised: tuple[bool, str],
    at_most: int = PRUNE_AT_ONCE,
) -> Pruned:
    """Delete the days older than the same date `retention_years` before today, recorded
    first in the chain; ChainRefused, deleting nothing, when the clock cannot be trusted.

    + at_most: days that may go in one run (after a long outage, an admin who checked
      the clock allows more)
    """
    today = archive.today(now)
    folders = day_folders(archive.root)
    expired = expired_days(folders, today, archive.retention_years)
    if not expired:
        return Pruned([], 0, 0)
    newest = max(folders)
    if newest > today:
        raise ChainRefused(
            f"nothing deleted: the newest day kept, {newest}, lies after today "
            f"({today}): is the clock right?"
        )
    in_sync, why = synchronised
    if not in_sync:
        raise ChainRefused(f"nothing deleted: the clock is not synchronised ({why})")
    if len(expired) > at_most:
        raise ChainRefused(
            f"nothing deleted: {len(expired)} days ({expired[0]} .. {expired[-1]}) would go at "
            f"once, more than {at_most}: a clock that jumped ahead? Check the clock; then "
            f"`bimkit-logs prune --at-most {len(expired)}` deletes them"
        )
    return delete_days(archive, expired, now)


def delete_days(archive: Archive, days: list[datetime.date], now: datetime.datetime) -> Pruned:
    folders = day_folders(archive.root)
    files = sum(len(day_files(folders[day])) for day in days)
    size = sum(folder_bytes(folders[day]) for day in days)
    oldest_kept = years_before(archive.today(now), archive.retention_years)
    with locked(archive) as chain:
        record = append(
            archive,
            chain,
            "prune",
            [
                ("days", " ".join(day.isoformat() for day in days)),
                ("files", str(files)),
                ("bytes", str(size)),
                ("oldest-kept", oldest_kept.isoformat()),
            ],
            now,
        )
        for day in days:
            shutil.rmtree(folders[day])
            log.warning(
                "deleted day %s: older than %d calendar years (%s)",
                day,
                archive.retention_years,
                record.name,
            )
        copied = copy_off(archive)
    return Pruned([day.isoformat() for day in days], files, size, record.name, copied)


# -- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    day: str
    source: str
    lines: int


@dataclass(frozen=True)
class Status:
    root: str
    timezone: str
    days: int
    first_day: str | None
    last_sealed_day: str | None
    last_sealed_by_source: dict[str, str]
    unsealed_days: list[str]
    missing_days: list[str]
    acknowledged_days: list[str]
    chain_records: int
    last_record: str | None
    last_stamped_at: str | None
    lease_forgeries: list[Forgery]
    """Lease records that did not come from a DHCP server's channel: by day and source."""
    used_bytes: int
    filesystem_bytes: int
    free_bytes: int
    retention_years: int
    projected_bytes: int
    """Used bytes per day kept, times the days of a full retention."""


def status(archive: Archive, now: datetime.datetime) -> Status:
    today = archive.today(now)
    folders = day_folders(archive.root)
    chain = chains.load(archive.chain_dir)
    sealed = sealed_days(chain)
    acknowledged = sorted(
        e.record.day for e in chain.ordered() if e.record.kind == "acknowledge" and e.record.day
    )
    pruned = {day for e in chain.ordered() if e.record.kind == "prune" for day in e.record.days()}
    genesis = chain.entries.get(1)
    first = genesis.record.date("first-day") or today if genesis else min(folders, default=today)
    expected = [first + datetime.timedelta(n) for n in range((today - first).days)]
    by_source: dict[str, str] = {}
    for day in sorted(sealed):
        if day in folders:
            for name in day_files(folders[day]):
                if name.endswith(SYSLOG_SUFFIX):
                    by_source[name.removesuffix(SYSLOG_SUFFIX)] = day.isoformat()
                elif name.endswith(LEASES_SUFFIX):
                    by_source[f"{name.removesuffix(LEASES_SUFFIX)} (leases)"] = day.isoformat()
    last = chain.last()
    when = stamped_at(last) if last else None
    used = sum(folder_bytes(folder) for folder in folders.values())
    disk = shutil.disk_usage(archive.root if archive.root.exists() else archive.root.parent)
    kept_days = (today - years_before(today, archive.retention_years)).days
    return Status(
        root=str(archive.root),
        timezone=str(archive.zone),
        days=len(folders),
        first_day=first.isoformat() if folders or genesis else None,
        last_sealed_day=max(sealed).isoformat() if sealed else None,
        last_sealed_by_source=dict(sorted(by_source.items())),
        unsealed_days=[d.isoformat() for d in closed_days(folders, today) if d not in sealed],
        missing_days=[
            d.isoformat()
            for d in expected
            if d not in folders and d not in sealed and d not in pruned and d not in acknowledged
        ],
        acknowledged_days=[d.isoformat() for d in acknowledged],
        chain_records=len(chain.entries),
        last_record=last.record.name if last else None,
        last_stamped_at=archive.local(when) if when else None,
        lease_forgeries=forgeries(chain, folders, sealed, today),
        used_bytes=used,
        filesystem_bytes=disk.total,
        free_bytes=disk.free,
        retention_years=archive.retention_years,
        projected_bytes=used // len(folders) * kept_days if folders else 0,
    )


def forgeries(
    chain: Chain,
    folders: dict[datetime.date, Path],
    sealed: dict[datetime.date, Record],
    today: datetime.date,
) -> list[Forgery]:
    """Lease-like lines in the hosts' syslog: from the seals of sealed days, and read now
    from the days not sealed yet (today's among them)."""
    found = []
    for day, record in sorted(sealed.items()):
        for pair in record.fields.get("lease-like-lines", "").split():
            source, _, count = pair.rpartition("=")
            found.append(Forgery(day.isoformat(), source, int(count)))
    for day in sorted(set(folders) - set(sealed)):
        if day > today:
            continue
        names = [n for n in day_files(folders[day]) if n.endswith(SYSLOG_SUFFIX)]
        for name, scanned in scan_files(folders[day], names).items():
            if scanned.lease_like_lines:
                found.append(
                    Forgery(
                        day.isoformat(), name.removesuffix(SYSLOG_SUFFIX), scanned.lease_like_lines
                    )
                )
    return found


class NothingToVerify(DrError):
    """A verification that checked no day is not a pass."""
