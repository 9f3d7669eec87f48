"""The chain's copy off the log server: on the DR host, where the log server can add files
but never change or delete one.

On the DR host, sshd runs `bimkit-log-store DIR` for the log server's key
whatever the client asks (authorized_keys `command=...,restrict`), and the
key reaches only its own folder. The client's request is one word:

    list      `<sha256>  <name>` of every file kept
    receive   a tar of new files on stdin: each is kept read-only; one that exists with
              other content is refused and named (exit 1)
    export    a tar of every file kept, for `bimkit-logs verify`

On the log server, `push` sends what the DR host lacks after every seal,
and `fetch` brings the copy back for verification.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
import syslog
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dr.config import SealStore
from dr.errors import DrError
from dr.logs.chain import (
    NO_PREVIOUS,
    TSA_FILE,
    ChainUnreadable,
    chain_files,
    is_chain_file,
    parse,
    sha256_hex,
)
from dr.process import CommandFailed, run_bytes

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A record, token, manifest or certificate chain is a few kilobytes."""
MAX_FILES = 250_000
"""Thirty years of records with their tokens, manifests and failure notes: a log server's key
cannot fill the DR host's disk."""
_RECORD_TEXT = re.compile(r"(?P<name>(?P<sequence>\d{6})-[a-z]+(?:-\d{4}-\d{2}-\d{2})?)\.txt")


class StoreError(DrError):
    """The DR host's copy could not be reached, or refused a file."""


def keepable(name: str) -> bool:
    return is_chain_file(name)


# -- the DR host's side ------------------------------------------------------------------


def listing(folder: Path) -> str:
    return "".join(
        f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n"
        for name in chain_files(folder)
    )


def receive(folder: Path, archive: bytes) -> tuple[list[str], list[str]]:
    """Keep each new file of the tar `archive`; (lines said, names refused).

    A record is kept only as the next one: the number after the last kept, naming the
    SHA-256 of the last one's token. So nothing is slipped in between, no number is used
    twice, and junk cannot stop the chain (a token without its record counts for nothing).
    """
    said, refused = [], []
    state = _Kept.of(folder)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar:
            name = member.name
            if not member.isfile() or not keepable(name) or member.size > MAX_FILE_BYTES:
                refused.append(name)
                said.append(f"refused {name!r}: not a chain file")
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            data = handle.read()
            target = folder / name
            if target.exists():
                if target.read_bytes() == data:
                    said.append(f"kept {name} (already here)")
                else:
                    refused.append(name)
                    said.append(f"refused {name}: a file of that name exists with other content")
                continue
            why = state.refusal(folder, name, data)
            if why:
                refused.append(name)
                said.append(f"refused {name}: {why}")
                continue
            _add(target, data)
            state.added(name)
            said.append(f"added {name}")
    return said, refused


@dataclass
class _Kept:
    """What the folder holds of the chain: the last record and how many files."""

    last: int
    last_name: str | None
    files: int

    @classmethod
    def of(cls, folder: Path) -> _Kept:
        names = chain_files(folder)
        records = sorted((int(m["sequence"]), m["name"]) for n in names
                         if (m := _RECORD_TEXT.fullmatch(n)))  # fmt: skip
        last, name = records[-1] if records else (0, None)
        return cls(last, name, len(names))

    def refusal(self, folder: Path, name: str, data: bytes) -> str | None:
        if self.files >= MAX_FILES:
            return f"the copy holds {MAX_FILES} files already"
        named = TSA_FILE.fullmatch(name)
        if named and hashlib.sha256(data).hexdigest() != named["digest"]:
            return "its content is not the chain its name says"
        text = _RECORD_TEXT.fullmatch(name)
        if not text:
            return None
        sequence = int(text["sequence"])
        if sequence != self.last + 1:
            return f"not the next record (number {self.last + 1:06d} is)"
        try:
            record = parse(data, name)
        except ChainUnreadable as error:
            return str(error)
        previous = (
            sha256_hex((folder / f"{self.last_name}.tsr").read_bytes())
            if self.last_name and (folder / f"{self.last_name}.tsr").is_file()
            else NO_PREVIOUS
        )
        if record.name != text["name"] or record.fields.get("previous-token-sha256") != previous:
            return "it does not follow the last record kept here"
        return None

    def added(self, name: str) -> None:
        self.files += 1
        text = _RECORD_TEXT.fullmatch(name)
        if text:
            self.last, self.last_name = int(text["sequence"]), text["name"]


def _add(target: Path, data: bytes) -> None:
    """Write beside, then link into place: a name is taken once, and never half-written."""
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".incoming-", delete=False) as part:
        part.write(data)
        part.flush()
        os.fsync(part.fileno())
    try:
        os.chmod(part.name, 0o444)
        os.link(part.name, target)  # fails if the name was taken meanwhile
    finally:
        os.unlink(part.name)


def export(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name in chain_files(folder):
            tar.add(folder / name, arcname=name)
    return buffer.getvalue()


def serve(argv: list[str] | None = None) -> int:
    """`bimkit-log-store DIR`: the forced command on the DR host (the request in
    SSH_ORIGINAL_COMMAND)."""
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: bimkit-log-store DIR (run by sshd for a log server's key)", file=sys.stderr)
        return 2
    folder = Path(arguments[0])
    request = os.environ.get("SSH_ORIGINAL_COMMAND", "").strip()
    if not folder.is_dir():
        print(f"bimkit-log-store: {folder} does not exist", file=sys.stderr)
        return 2
    if request == "list":
        sys.stdout.write(listing(folder))
        return 0
    if request == "export":
        sys.stdout.buffer.write(export(folder))
        return 0
    if request == "receive":
        try:
            said, refused = receive(folder, sys.stdin.buffer.read(64 * MAX_FILE_BYTES))
        except tarfile.TarError as error:
            print(f"bimkit-log-store: not a tar archive: {error}", file=sys.stderr)
            return 2
        print("\n".join(said))
        if refused:
            syslog.openlog("bimkit-log-store", 0, syslog.LOG_AUTH)
            for name in refused:
                syslog.syslog(syslog.LOG_WARNING, f"{folder}: refused to replace {name}")
        return 1 if refused else 0
    print(
        f"bimkit-log-store: unknown request {request[:40]!r} (list, receive, export)",
        file=sys.stderr,
    )
    return 2


# -- the log server's side ---------------------------------------------------------------


def _ssh(store: SealStore, request: str) -> list[str]:
    return [
        "ssh",
        "-i",
        store.key_file,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={store.known_hosts_file}",
        "-o",
        "ConnectTimeout=15",
        "-o",
        "LogLevel=ERROR",
        "-p",
        str(store.port),
        f"{store.user}@{store.address}",
        request,
    ]


def _call(store: SealStore, request: str, data: bytes | None = None) -> bytes:
    try:
        return run_bytes(
            _ssh(store, request),
            input=data,
            timeout=300,
            context=f"the DR host's copy of the chain ({store.address})",
        )
    except CommandFailed as failed:
        raise StoreError(str(failed)) from None


def remote_listing(store: SealStore) -> dict[str, str]:
    """name -> SHA-256 of every file the DR host keeps."""
    found = {}
    for line in _call(store, "list").decode().splitlines():
        digest, _, name = line.partition("  ")
        found[name] = digest
    return found


@dataclass(frozen=True)
class Pushed:
    sent: list[str]
    differing: list[str]
    """Files the DR host keeps with other content than the log server's: a rewrite."""


def push(store: SealStore, folder: Path) -> Pushed:
    """Send the DR host every chain file it lacks; name those that differ from its copy."""
    remote = remote_listing(store)
    local = chain_files(folder)
    differing = [
        name
        for name in local
        if name in remote
        and hashlib.sha256((folder / name).read_bytes()).hexdigest() != remote[name]
    ]
    missing = [name for name in local if name not in remote]
    if missing:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:") as tar:
            for name in missing:
                tar.add(folder / name, arcname=name)
        _call(store, "receive", buffer.getvalue())
    return Pushed(missing, differing)


def fetch(store: SealStore, into: Path) -> Path:
    """The DR host's copy, unpacked into `into` (chain files only)."""
    archive = _call(store, "export")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar:
            if member.isfile() and keepable(member.name):
                handle = tar.extractfile(member)
                assert handle is not None
                (into / member.name).write_bytes(handle.read())
                # When the DR host received it: what makes a failure note count.
                os.utime(into / member.name, (member.mtime, member.mtime))
    return into


def main() -> int:
    return serve()


if __name__ == "__main__":
    sys.exit(main())
