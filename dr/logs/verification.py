"""Verify the archive: the chain against its copy on the DR host, every token at the moment
it was stamped, and every day from the chain's first to yesterday.

A day passes when it is sealed once, on time (or late for a reason recorded at
the time), and its files are exactly those its seal names; or when an admin
acknowledged it as missing; or when a prune record deleted it after its two
calendar years. Anything else fails, named: a record rewritten or removed on
the log server, a day copied over another, a day sealed again, a deleted day
at either end or in the middle, a token stamped more than 48 hours after its
day ended with no reason, a token that does not verify.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import tempfile
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dr.logs import chain as chains
from dr.logs.archive import (
    MANIFEST,
    ManifestUnreadable,
    compare,
    day_end,
    day_files,
    day_folders,
    hash_files,
    parse_manifest,
    years_before,
)
from dr.logs.chain import Chain, Entry, sha256_hex
from dr.logs.jobs import LATE_AFTER, late_without_reason, present_at_genesis
from dr.logs.timestamp import TokenInvalid, check_token
from dr.logs.token import TokenUnreadable, read_reply

NOT_COPIED_AFTER = datetime.timedelta(hours=24)
"""A record the DR host has not received by then fails: it is copied as it is made."""
CLOCK_SKEW = datetime.timedelta(minutes=5)
"""A token stamped later than this after now: this host's clock is behind."""


@dataclass(frozen=True)
class DayVerdict:
    day: str
    state: str
    """sealed | acknowledged | pruned | unsealed | missing | before-the-chain"""
    files: int = 0
    problems: list[str] = field(default_factory=list)
    stamped_at: str = ""
    record: str = ""
    note: str = ""
    """Why a day is acknowledged or was sealed late, as the chain recorded it."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Verification:
    days: list[DayVerdict]
    chain_problems: list[str]
    records: int
    records_on_dr_host: int | None
    """None: no copy to compare with."""
    tsa_chains: int
    record_problems: dict[str, list[str]] = field(default_factory=dict)
    """Record name -> its problems (an evidence package leaves out what follows one)."""

    @property
    def ok(self) -> bool:
        return bool(self.days) and not self.chain_problems and all(d.ok for d in self.days)


@dataclass
class _Findings:
    """Problems as they are found, by day where they belong to one."""

    by_day: dict[datetime.date, list[str]] = field(default_factory=lambda: defaultdict(list))
    chain: list[str] = field(default_factory=list)
    by_record: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def about(self, record: chains.Record, message: str) -> None:
        self.by_record[record.name].append(message)
        days = [record.day] if record.day else record.days()
        for day in days:
            self.by_day[day].append(message)
        if not days:
            self.chain.append(message)


def verify(
    root: Path,
    zone: zoneinfo.ZoneInfo,
    now: datetime.datetime,
    copy: Path | None,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
    retention_years: int = 2,
    as_of: datetime.datetime | None = None,
    trusted: bytes | None = None,
) -> Verification:
    """The whole chain, and every closed day in [first, last].

    + copy: the DR host's copy of the chain (None: nothing to compare with, a failure)
    + as_of: a restored copy's time: the DR host's records stamped later are not in it
    + trusted: the TSA's CA certificates as the data names them (PEM); from the first
      record stamped under them on, every record must be
    """
    found = _Findings()
    local = chains.load(root / chains.FOLDER)
    remote = chains.load(copy) if copy is not None else None
    found.chain += local.problems + [
        f"the DR host's copy: {p}" for p in (remote.problems if remote else [])
    ]
    entries = reconcile(local, remote, now, found, as_of)
    tsa_chains = {**local.tsa_chains, **(remote.tsa_chains if remote else {})}
    today = now.astimezone(zone).date()
    in_range = _range(first, last, today)
    stamped = check_links_and_tokens(entries, tsa_chains, zone, in_range, found)
    for sequence, when in stamped.items():
        if when > now + CLOCK_SKEW:
            found.about(
                entries[sequence].record,
                f"record {entries[sequence].record.name} was stamped "
                f"{when.astimezone(zone):%Y-%m-%d %H:%M}, after this host's clock "
                f"({now.astimezone(zone):%Y-%m-%d %H:%M}): is the clock behind?",
            )
    if trusted is not None:
        check_trust(entries, tsa_chains, trusted, found)
    failures = remote.failures if remote is not None else {}
    verdicts = day_verdicts(
        root, entries, stamped, zone, today, in_range, retention_years, found, failures
    )
    return Verification(
        verdicts,
        found.chain,
        len(entries),
        len(remote.entries) if remote else None,
        len(tsa_chains),
        {name: problems for name, problems in found.by_record.items() if problems},
    )


def fingerprints(pem: bytes) -> set[bytes]:
    """SHA-256 of each certificate in a PEM bundle (none when it holds none)."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return set()
    return {certificate.fingerprint(hashes.SHA256()) for certificate in certificates}


def check_trust(
    entries: dict[int, Entry], tsa_chains: dict[str, bytes], trusted: bytes, found: _Findings
) -> None:
    """A TSA chain the data does not name is no proof, unless it was in use before the first
    record stamped under one it names: history the DR host's copy holds unchanged. So root
    on the log server cannot bring a TSA of its own; the TSA's own roll-over can."""
    anchors = fingerprints(trusted)

    def named(entry: Entry) -> bool:
        pem = tsa_chains.get(entry.record.fields.get("tsa-chain-sha256", ""), b"")
        return bool(fingerprints(pem) & anchors)

    ordered = [entries[n] for n in sorted(entries)]
    first = next((index for index, entry in enumerate(ordered) if named(entry)), None)
    if first is None:
        found.chain.append("no record was stamped under a TSA certificate the data names")
        return
    for entry in ordered[first:]:
        if not named(entry):
            found.about(entry.record, f"record {entry.record.name} was stamped under a TSA "
                                      "certificate chain the data does not name")  # fmt: skip


Chosen = Callable[[datetime.date], bool]


def _range(first: datetime.date | None, last: datetime.date | None, today: datetime.date) -> Chosen:
    def chosen(day: datetime.date) -> bool:
        return day < today and (first is None or day >= first) and (last is None or day <= last)

    return chosen


def reconcile(
    local: Chain,
    remote: Chain | None,
    now: datetime.datetime,
    found: _Findings,
    as_of: datetime.datetime | None = None,
) -> dict[int, Entry]:
    """The chain to verify: the DR host's copy of every record it has (what the log server
    could not change), then the records it has not received yet."""
    if remote is None:
        found.chain.append("no copy of the chain off the log server to compare with")
        return dict(local.entries)
    # A restored copy need not hold what was sealed after it was taken.
    copied = {
        sequence: kept
        for sequence, kept in remote.entries.items()
        if as_of is None or (_stamp_time(kept) or as_of) <= as_of
    }
    entries = dict(copied)
    for sequence, kept in copied.items():
        here = local.entries.get(sequence)
        if here is None:
            found.about(
                kept.record,
                f"record {kept.record.name} is gone from the log server "
                "(the DR host's copy has it)",
            )
            continue
        changed = [
            part
            for part, a, b in (
                ("record", here.text, kept.text),
                ("token", here.token, kept.token),
                ("manifest", here.manifest, kept.manifest),
            )
            if a != b
        ]
        if changed:
            found.about(
                kept.record,
                f"record {kept.record.name}: its {' and '.join(changed)} on "
                "the log server differ from the DR host's copy "
                "(rewritten)",
            )
    newest_copied = max(copied, default=0)
    for sequence, here in sorted(local.entries.items()):
        if sequence in copied:
            continue
        entries[sequence] = here
        if sequence < newest_copied:
            found.about(
                here.record,
                f"record {here.record.name} is missing from the DR host's "
                "copy, which has later ones",
            )
            continue
        when = _stamp_time(here)
        if when is not None and now - when > NOT_COPIED_AFTER:
            found.about(
                here.record,
                f"record {here.record.name}, stamped {when:%Y-%m-%d %H:%M} "
                "UTC, has not reached the DR host's copy",
            )
    return entries


def _stamp_time(entry: Entry) -> datetime.datetime | None:
    try:
        return read_reply(entry.token).stamped_at if entry.token else None
    except TokenUnreadable:
        return None


def _relevant(record: chains.Record, chosen: Chosen) -> bool:
    days = [record.day] if record.day else record.days()
    return not days or any(chosen(day) for day in days)


def check_links_and_tokens(
    entries: dict[int, Entry],
    tsa_chains: dict[str, bytes],
    zone: zoneinfo.ZoneInfo,
    chosen: Chosen,
    found: _Findings,
) -> dict[int, datetime.datetime]:
    """Every link, and the token of every record that concerns the chosen days (all of
    them without a range), checked at the moment it was stamped; sequence -> that moment."""
    stamped: dict[int, datetime.datetime] = {}
    if 1 not in entries or entries[1].record.kind != "genesis":
        found.chain.append("the chain does not begin with its genesis record")
    server = entries[1].record.fields.get("log-server") if 1 in entries else None
    to_verify: list[Entry] = []
    for sequence in range(1, max(entries, default=0) + 1):
        entry = entries.get(sequence)
        if entry is None:
            found.chain.append(f"record {sequence:06d} is missing from the chain")
            continue
        record = entry.record
        if record.kind == "genesis" and sequence != 1:
            found.chain.append(f"record {record.name}: a second genesis")
        if record.fields.get("log-server") != server:
            found.about(
                record,
                f"record {record.name} names log server "
                f"{record.fields.get('log-server')}, the chain {server}",
            )
        previous = entries.get(sequence - 1)
        link = (record.fields.get("previous"), record.fields.get("previous-token-sha256"))
        wanted = (
            (previous.record.name, sha256_hex(previous.token))
            if previous and previous.token
            else (chains.NO_PREVIOUS, chains.NO_PREVIOUS)
        )
        if sequence > 1 and previous is not None and link != wanted:
            found.about(
                record,
                f"record {record.name} does not follow {previous.record.name}: "
                "its link names another token",
            )
        if entry.token is None:
            found.about(record, f"record {record.name} has no time stamp token")
            continue
        try:
            info = read_reply(entry.token)
        except TokenUnreadable as error:
            found.about(record, f"record {record.name}: its token is unreadable ({error})")
            continue
        stamped[sequence] = info.stamped_at
        if info.imprint != hashlib.sha256(entry.text).digest():
            found.about(
                record,
                f"record {record.name}: its token stamps other bytes (message imprint mismatch)",
            )
            continue
        earlier = stamped.get(sequence - 1)
        if earlier is not None and info.stamped_at < earlier - datetime.timedelta(seconds=1):
            found.about(record, f"record {record.name} was stamped before the record it follows")
        if _relevant(record, chosen) or record.kind == "genesis" or to_verify:
            # From the first record of the chosen days on, every token: an evidence package
            # carries them all as the links to the newest.
            to_verify.append(entry)
    failures = _verify_tokens(to_verify, tsa_chains, zone)
    for entry, message in failures:
        found.about(entry.record, message)
    return stamped


def _verify_tokens(
    entries: list[Entry], tsa_chains: dict[str, bytes], zone: zoneinfo.ZoneInfo
) -> list[tuple[Entry, str]]:
    """openssl on each token, at its stamp time, under the TSA chain its record names."""
    with tempfile.TemporaryDirectory(prefix="bimkit-verify-") as work:
        folder = Path(work)
        for digest, pem in tsa_chains.items():
            (folder / f"{digest}.pem").write_bytes(pem)

        def one(entry: Entry) -> str | None:
            digest = entry.record.fields.get("tsa-chain-sha256", "")
            if digest not in tsa_chains:
                return (
                    f"record {entry.record.name}: the TSA certificate chain it was stamped "
                    f"under ({digest[:12]}…) is not kept"
                )
            assert entry.token is not None
            base = folder / entry.record.name
            base.with_suffix(".txt").write_bytes(entry.text)
            base.with_suffix(".tsr").write_bytes(entry.token)
            when = read_reply(entry.token).stamped_at
            try:
                check_token(
                    base.with_suffix(".tsr"),
                    base.with_suffix(".txt"),
                    str(folder / f"{digest}.pem"),
                    when,
                )
            except TokenInvalid as error:
                return (
                    f"record {entry.record.name}, stamped "
                    f"{when.astimezone(zone):%Y-%m-%d %H:%M}: "
                    + str(error).replace(str(base.with_suffix(".tsr")), "its token")
                )
            return None

        with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
            results = list(pool.map(one, entries))
    return [(entry, message) for entry, message in zip(entries, results, strict=True) if message]


def day_verdicts(
    root: Path,
    entries: dict[int, Entry],
    stamped: dict[int, datetime.datetime],
    zone: zoneinfo.ZoneInfo,
    today: datetime.date,
    chosen: Chosen,
    retention_years: int,
    found: _Findings,
    failures: dict[datetime.date, list[datetime.datetime]],
) -> list[DayVerdict]:
    folders = day_folders(root)
    ordered = [entries[n] for n in sorted(entries)]
    seals: dict[datetime.date, list[Entry]] = defaultdict(list)
    acknowledged: dict[datetime.date, list[Entry]] = defaultdict(list)
    pruned: dict[datetime.date, Entry] = {}
    for entry in ordered:
        record, when = entry.record, stamped.get(entry.record.sequence)
        if record.kind == "seal" and record.day:
            seals[record.day].append(entry)
        elif record.kind == "acknowledge" and record.day:
            acknowledged[record.day].append(entry)
        elif record.kind == "prune":
            for day in record.days():
                pruned[day] = entry
                local = when.astimezone(zone).date() if when else today
                if day >= years_before(local, retention_years):
                    found.about(
                        record,
                        f"{record.name} deleted {day} before {retention_years} "
                        "calendar years had passed",
                    )
    genesis = entries.get(1)
    first = (genesis.record.date("first-day") if genesis else None) or min(folders, default=today)
    days = {first + datetime.timedelta(n) for n in range((today - first).days)}
    days |= set(folders) | set(seals)
    manifests = {
        entry.record.fields.get("manifest-sha256"): day
        for day, sealed in seals.items()
        for entry in sealed
    }
    verdicts = []
    for day in sorted(d for d in days if chosen(d)):
        if day in pruned:
            verdicts.append(
                DayVerdict(
                    day.isoformat(),
                    "pruned",
                    record=pruned[day].record.name,
                    problems=found.by_day[day],
                )
            )
        elif day in seals:
            verdicts.append(
                _sealed_day(
                    day,
                    folders.get(day),
                    root,
                    seals[day],
                    stamped,
                    _acknowledged(acknowledged[day], "late", after=seals[day][0]),
                    manifests,
                    zone,
                    found,
                    genesis.record if genesis else None,
                    failures,
                )
            )
        elif day < first:
            verdicts.append(
                DayVerdict(
                    day.isoformat(),
                    "before-the-chain",
                    problems=[
                        *found.by_day[day],
                        f"{folders[day]}: a day before the chain's first day {first}",
                    ],
                )
            )
        elif _acknowledged(acknowledged[day], "missing"):
            record = _acknowledged(acknowledged[day], "missing").record  # type: ignore[union-attr]
            extra = (
                [f"unsealed: acknowledged as missing, yet its folder {folders[day]} is here"]
                if day in folders
                else []
            )
            verdicts.append(
                DayVerdict(
                    day.isoformat(),
                    "acknowledged",
                    0,
                    [*found.by_day[day], *extra],
                    record=record.name,
                    note=f"acknowledged by {record.fields.get('by')}: "
                    f"{record.fields.get('reason')}",
                )
            )
        elif day in folders:
            verdicts.append(
                DayVerdict(
                    day.isoformat(),
                    "unsealed",
                    len(day_files(folders[day])),
                    [*found.by_day[day], "unsealed: no seal in the chain"],
                )
            )
        else:
            verdicts.append(
                DayVerdict(
                    day.isoformat(),
                    "missing",
                    0,
                    [
                        *found.by_day[day],
                        f"missing: no folder {root / day.isoformat()}, "
                        "no seal and no acknowledgement",
                    ],
                )
            )
    return verdicts


def _sealed_day(
    day: datetime.date,
    folder: Path | None,
    root: Path,
    seals: list[Entry],
    stamped: dict[int, datetime.datetime],
    acknowledgement: Entry | None,
    manifests: dict[str | None, datetime.date],
    zone: zoneinfo.ZoneInfo,
    found: _Findings,
    genesis: chains.Record | None,
    failures: dict[datetime.date, list[datetime.datetime]],
) -> DayVerdict:
    entry = seals[0]
    record = entry.record
    problems = list(found.by_day[day])
    if len(seals) > 1:
        problems.append(
            f"sealed {len(seals)} times ({', '.join(e.record.name for e in seals)}):"
            " rewritten and sealed again?"
        )
    note = record.fields.get("late-reason", "")
    when = stamped.get(record.sequence)
    if (when and genesis and when - day_end(day, zone) > LATE_AFTER
            and day in present_at_genesis(genesis)):  # fmt: skip
        note = "sealed when the chain began: the day was there before sealing started"
    for again in seals:
        again_when = stamped.get(again.record.sequence)
        if again_when and again_when < day_end(day, zone):
            problems.append(f"{again.record.name} was stamped before the day ended")
        late = (
            late_without_reason(again, genesis, zone, failures, again is entry) if genesis else None
        )
        if late is None:
            continue
        if acknowledgement is not None and again is entry:
            note = (
                f"sealed late; acknowledged by {acknowledgement.record.fields.get('by')}: "
                f"{acknowledgement.record.fields.get('reason')}"
            )
        else:
            problems.append(
                f"{again.record.name} was stamped {late.total_seconds() / 3600:.0f} "
                "hours after the day ended, with no reason recorded at the time"
            )
    files = int(record.fields.get("files", "0"))
    if folder is None:
        problems.append(f"deleted: {root / day.isoformat()} is gone, sealed by {record.name}")
    else:
        problems += _check_files(folder, entry, manifests, day)
    return DayVerdict(
        day.isoformat(),
        "sealed",
        files,
        problems,
        when.astimezone(zone).isoformat(timespec="seconds") if when else "",
        record.name,
        note,
    )


def _acknowledged(entries: list[Entry], what: str, after: Entry | None = None) -> Entry | None:
    """The first acknowledgement of this kind (`late`: made after the seal it excuses)."""
    return next(
        (e for e in entries if e.record.fields.get("what") == what
         and (after is None or e.record.sequence > after.record.sequence)),
        None,
    )  # fmt: skip


def _check_files(
    folder: Path, entry: Entry, manifests: dict[str | None, datetime.date], day: datetime.date
) -> list[str]:
    """The day's files against the manifest its seal names."""
    problems = []
    manifest_path = folder / MANIFEST
    sealed_digest = entry.record.fields.get("manifest-sha256")
    here = manifest_path.read_bytes() if manifest_path.exists() else None
    if here is None:
        problems.append(f"missing: {manifest_path}")
    elif sha256_hex(here) != sealed_digest:
        other = manifests.get(sha256_hex(here))
        problems.append(
            f"{manifest_path} is day {other}'s sealed manifest: another day copied over this one"
            if other and other != day
            else f"{manifest_path} is not the manifest sealed for {day}"
        )
    sealed = entry.manifest if entry.manifest is not None else here
    if sealed is None or sha256_hex(sealed) != sealed_digest:
        return [*problems, f"{entry.record.name}: the sealed manifest itself is not kept"]
    try:
        recorded = parse_manifest(sealed.decode())
    except (ManifestUnreadable, UnicodeDecodeError) as error:
        return [*problems, f"{entry.record.name}: sealed manifest unreadable: {error}"]
    problems += [
        f"not a regular file: {path}"
        for path in sorted(folder.iterdir())
        if path.is_symlink() or not path.is_file()
    ]
    differences = compare(recorded, hash_files(folder, day_files(folder)))
    return problems + [
        f"{line.split(': ', 1)[0]}: {folder / line.split(': ', 1)[1]}"
        for line in differences.describe()
    ]
