"""The archive's chain: every seal, acknowledgement and deletion as a time-stamped record
that names the token of the record before it.

    <root>/chain/000001-genesis.txt                 the first record: log server, first day
    <root>/chain/000001-genesis.tsr                 its RFC 3161 token
    <root>/chain/000002-seal-2026-03-03.txt         a day sealed: its manifest's digest, files
    <root>/chain/000002-seal-2026-03-03.tsr
    <root>/chain/000002-seal-2026-03-03.SHA256SUMS  the day's manifest as it was sealed
    <root>/chain/000061-acknowledge-2026-03-05.txt  a missing or late day: who said why
    <root>/chain/000090-prune.txt                   days deleted past the retention
    <root>/chain/tsa-<sha256>.pem                   each TSA certificate chain used
    <root>/chain/failure-<day>-<UTC time>.txt       a seal attempt that failed, as it failed

A record is a few `key: value` lines, the text a court reads, and exactly
the bytes its token stamps. Each names the SHA-256 of the previous record's
token, so no record can be changed, removed or slipped in without breaking
every link after it; and each is copied off the log server as it is made
(dr.logs.store), where the log server may add files but never change them.
Pure apart from reading and writing the folder.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dr.logs.archive import write_atomically

FOLDER = "chain"
FORMAT = "1"
KINDS = ("genesis", "seal", "acknowledge", "prune")
NO_PREVIOUS = "none"
RECORD_FILE = re.compile(
    r"(?P<sequence>\d{6})-(?P<kind>genesis|seal|acknowledge|prune)"
    r"(?:-(?P<day>\d{4}-\d{2}-\d{2}))?\.(?P<part>txt|tsr|SHA256SUMS)"
)
TSA_FILE = re.compile(r"tsa-(?P<digest>[0-9a-f]{64})\.pem")
FAILURE_FILE = re.compile(r"failure-(?P<day>\d{4}-\d{2}-\d{2})-(?P<at>\d{8}T\d{6}Z)\.txt")
"""A failed seal attempt: the DR host's copy of it shows when it was told (its mtime there)."""
_LINE = re.compile(r"(?P<key>[a-z][a-z0-9-]*): (?P<value>[^\n\r]*)")
DATES = ("day", "first-day", "present-through", "oldest-kept")
DATE_LISTS = ("days", "absent-days")
NUMBERS = ("files", "bytes")
TIMES = ("written-at", "day-ends", "failing-since")


class ChainUnreadable(ValueError):
    pass


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one_line(text: str, limit: int = 500) -> str:
    """Free text (a reason, a name) as one line of a record: no control characters."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return cleaned[:limit]


@dataclass(frozen=True)
class Record:
    sequence: int
    kind: str
    fields: dict[str, str]
    """Every line but the three that open a record, in their order."""

    @property
    def day(self) -> datetime.date | None:
        value = self.fields.get("day")
        return datetime.date.fromisoformat(value) if value else None

    @property
    def name(self) -> str:
        return record_name(self.sequence, self.kind, self.day)

    def days(self) -> list[datetime.date]:
        """The days a prune record deleted."""
        return self.dates("days")

    def dates(self, key: str) -> list[datetime.date]:
        return [datetime.date.fromisoformat(d) for d in self.fields.get(key, "").split()]

    def date(self, key: str) -> datetime.date | None:
        value = self.fields.get(key)
        return datetime.date.fromisoformat(value) if value else None


def record_name(sequence: int, kind: str, day: datetime.date | None) -> str:
    return f"{sequence:06d}-{kind}" + (f"-{day.isoformat()}" if day else "")


def render(sequence: int, kind: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """A record's exact bytes: the three opening lines, then `fields` in the order given."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    lines = [("bimkit-log-chain", FORMAT), ("sequence", str(sequence)), ("kind", kind), *fields]
    for key, value in lines:
        if not _LINE.fullmatch(f"{key}: {value}"):
            raise ValueError(f"record line {key!r} is not one `key: value` line")
    return "".join(f"{key}: {value}\n" for key, value in lines).encode()


def parse(text: bytes, where: str) -> Record:
    """A record from its bytes; ChainUnreadable naming `where` when it is not one."""
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise ChainUnreadable(f"{where}: not UTF-8") from None
    if lines[-1] != "":
        raise ChainUnreadable(f"{where}: does not end with a newline")
    pairs = []
    for number, line in enumerate(lines[:-1], 1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise ChainUnreadable(f"{where}: line {number} is not `key: value`: {line[:80]!r}")
        pairs.append((match["key"], match["value"]))
    opening = [key for key, _ in pairs[:3]]
    if opening != ["bimkit-log-chain", "sequence", "kind"] or pairs[0][1] != FORMAT:
        raise ChainUnreadable(f"{where}: not a bimkit log chain record (format {FORMAT})")
    if pairs[2][1] not in KINDS or not re.fullmatch(r"[0-9]{1,6}", pairs[1][1]):
        raise ChainUnreadable(f"{where}: unknown kind {pairs[2][1]!r} or sequence")
    fields = dict(pairs[3:])
    if len(fields) != len(pairs) - 3:
        raise ChainUnreadable(f"{where}: a key appears twice")
    _check_fields(fields, where)
    return Record(int(pairs[1][1]), pairs[2][1], fields)


def _check_fields(fields: dict[str, str], where: str) -> None:
    """The known fields have their types: a crafted record is unreadable, never a crash."""
    try:
        for key in DATES:
            if key in fields:
                datetime.date.fromisoformat(fields[key])
        for key in DATE_LISTS:
            for value in fields.get(key, "").split():
                datetime.date.fromisoformat(value)
        for key in TIMES:
            if key in fields and datetime.datetime.fromisoformat(fields[key]).tzinfo is None:
                raise ValueError(f"{key} has no time zone")
    except ValueError as error:
        raise ChainUnreadable(f"{where}: {error}") from None
    for key in NUMBERS:
        if key in fields and not re.fullmatch(r"[0-9]{1,15}", fields[key]):
            raise ChainUnreadable(f"{where}: {key} is not a number")


@dataclass(frozen=True)
class Entry:
    """One record with its files as found in a folder."""

    record: Record
    text: bytes
    token: bytes | None
    manifest: bytes | None
    """A seal's manifest (SHA256SUMS of its day) as it was sealed."""


@dataclass
class Chain:
    entries: dict[int, Entry] = field(default_factory=dict)
    """By sequence number."""
    tsa_chains: dict[str, bytes] = field(default_factory=dict)
    """sha256 -> PEM: every TSA certificate chain kept."""
    failures: dict[datetime.date, list[datetime.datetime]] = field(default_factory=dict)
    """Day -> when each note of a failed seal attempt was written here (the file's mtime)."""
    problems: list[str] = field(default_factory=list)
    """Files that are not what their name says."""

    def ordered(self) -> list[Entry]:
        return [self.entries[n] for n in sorted(self.entries)]

    def last(self) -> Entry | None:
        return self.entries[max(self.entries)] if self.entries else None


def is_chain_file(name: str) -> bool:
    return any(p.fullmatch(name) for p in (RECORD_FILE, TSA_FILE, FAILURE_FILE))


def chain_files(folder: Path) -> list[str]:
    """The names of the chain's own files in `folder` (what is copied to the DR host):
    regular files only, never a link."""
    if not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_file() and not entry.is_symlink() and is_chain_file(entry.name)
    )


def load(folder: Path) -> Chain:
    """Every record, token, manifest and TSA chain in `folder` (a missing folder: empty)."""
    chain = Chain()
    for name in chain_files(folder):
        failure = FAILURE_FILE.fullmatch(name)
        if failure:
            written = datetime.datetime.fromtimestamp((folder / name).stat().st_mtime, datetime.UTC)
            chain.failures.setdefault(datetime.date.fromisoformat(failure["day"]), []).append(
                written
            )
            continue
        data = (folder / name).read_bytes()
        tsa = TSA_FILE.fullmatch(name)
        if tsa:
            if sha256_hex(data) != tsa["digest"]:
                chain.problems.append(f"{folder / name}: content does not match its name")
            else:
                chain.tsa_chains[tsa["digest"]] = data
            continue
        match = RECORD_FILE.fullmatch(name)
        assert match is not None
        if match["part"] != "txt":
            continue
        try:
            record = parse(data, str(folder / name))
        except ChainUnreadable as error:
            chain.problems.append(str(error))
            continue
        if record.name != name.removesuffix(".txt"):
            chain.problems.append(f"{folder / name}: the record inside is {record.name}")
            continue
        if record.sequence in chain.entries:
            other = chain.entries[record.sequence].record.name
            chain.problems.append(f"{folder}: two records are numbered {record.sequence:06d}: "
                                  f"{other} and {record.name}")  # fmt: skip
            continue
        base = folder / record.name
        chain.entries[record.sequence] = Entry(
            record,
            data,
            _read(base.with_name(f"{record.name}.tsr")),
            _read(base.with_name(f"{record.name}.SHA256SUMS")),
        )
    return chain


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None


def write_entry(folder: Path, text: bytes, token: bytes, manifest: bytes | None) -> str:
    """A new record's files, read-only; the token last, so a record without one was never
    stamped (`discard_unstamped` removes it). Returns the record's name."""
    record = parse(text, "new record")
    folder.mkdir(mode=0o750, exist_ok=True)
    if manifest is not None:
        write_atomically(folder / f"{record.name}.SHA256SUMS", manifest)
    write_atomically(folder / f"{record.name}.txt", text)
    write_atomically(folder / f"{record.name}.tsr", token)
    return record.name


def discard_unstamped(folder: Path, chain: Chain) -> list[str]:
    """Remove a last record left without its token by a crash (never stamped, never copied)."""
    last = chain.last()
    if last is None or last.token is not None:
        return []
    removed = []
    for part in ("txt", "SHA256SUMS"):
        path = folder / f"{last.record.name}.{part}"
        if path.exists():
            path.unlink()
            removed.append(path.name)
    del chain.entries[last.record.sequence]
    return removed


def keep_tsa_chain(folder: Path, chain: Chain, pem: bytes) -> str:
    """Store the TSA chain a token is checked against (once); its SHA-256."""
    digest = sha256_hex(pem)
    if digest not in chain.tsa_chains:
        folder.mkdir(mode=0o750, exist_ok=True)
        write_atomically(folder / f"tsa-{digest}.pem", pem)
        chain.tsa_chains[digest] = pem
    return digest


def write_failure(folder: Path, day: datetime.date, at: datetime.datetime, error: str) -> str:
    """A note that sealing `day` failed, kept beside the chain (and copied to the DR host,
    whose copy's time shows the failure was told then)."""
    name = f"failure-{day.isoformat()}-{at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}.txt"
    folder.mkdir(mode=0o750, exist_ok=True)
    write_atomically(folder / name, f"{one_line(error)}\n".encode())
    return name
