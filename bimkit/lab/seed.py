"""Realistic data on the lab's file and log servers, so that backups and drills prove something.

A file server gets thousands of documents in its departments' folders; a
log server gets the syslog files of every host for the last weeks, and the
primary DC's lease records (one of them a lease of six days). The
content is random (incompressible, as real documents are) but seeded by
name, so every lab holds the same files. Written once into the machine's
root; `bimkit lab up` seeds machines that do not have it yet.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from bimkit.file_shares import desired_folders
from bimkit.model.dhcp import dhcp_subnets
from bimkit.model.estate import Estate, PlacedHost
from bimkit.model.schema import Role

MARKER = "var/lib/bimkit/lab-seeded"
FILES_PER_DEPARTMENT = 200
LOG_DAYS = 60
FOLDERS = ("yazismalar", "raporlar", "arsiv/2025", "arsiv/2026")
KINDS = (("rapor", "odt"), ("tutanak", "pdf"), ("dilekçe", "pdf"), ("teklif", "ods"),
         ("fatura", "pdf"), ("fotoğraf", "jpg"), ("not", "txt"))  # fmt: skip


def share_files(estate: Estate, root: str) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every document in every department's folder under `root` (a unit's
    inside its müdürlük's share, as bimkit.file_shares lays them out)."""
    folders = {folder.path.split("/")[-1]: folder.path for folder in desired_folders(estate)}
    for department in sorted(estate.departments):
        chance = random.Random(f"bimkit seed {department}")
        for number in range(1, FILES_PER_DEPARTMENT + 1):
            kind, extension = chance.choice(KINDS)
            folder = chance.choice(FOLDERS)
            size = min(int(chance.lognormvariate(9, 1.2)), 256 * 1024)
            yield (
                f"{root}/{folders[department]}/{folder}/{kind}-{number:04d}.{extension}",
                chance.randbytes(size),
            )


MESSAGES = (
    "kea-dhcp4[812]: DHCP4_LEASE_ALLOC [hwtype=1 {mac}], cid=[no info], tid=0x{tid:x}: "
    "lease {address} has been allocated for 86400 seconds",
    "sshd[{pid}]: Accepted publickey for root from {address} port {port} ssh2: ED25519",
    "systemd[1]: Started bimkit-backup@{service}.service - bimkit backup.",
    "CRON[{pid}]: (root) CMD (test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily)",
    "samba[{pid}]: Kerberos: AS-REQ {user}@{realm} from ipv4:{address}:{port}",
)


def log_files(estate: Estate, root: str, today: datetime.date) -> Iterator[tuple[str, bytes]]:
    """(path, content) of each host's syslog for each of the last LOG_DAYS days before `today`."""
    offset = datetime.timedelta(hours=3)
    users = [member.username for member in estate.members] or ["administrator"]
    for days_ago in range(LOG_DAYS, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        for host in sorted(estate.hosts.values(), key=lambda h: h.name):
            chance = random.Random(f"bimkit seed {host.name} {day}")
            lines = []
            moment = datetime.datetime.combine(day, datetime.time(), datetime.timezone(offset))
            for _ in range(chance.randint(40, 160)):
                moment += datetime.timedelta(seconds=chance.randint(1, 500))
                text = chance.choice(MESSAGES).format(
                    mac=":".join(f"{chance.randint(0, 255):02x}" for _ in range(6)),
                    tid=chance.getrandbits(32),
                    address=host.vlan.subnet.network_address + chance.randint(20, 200),
                    pid=chance.randint(300, 65000),
                    port=chance.randint(1024, 65535),
                    service=chance.choice(host.protected_services or ("logs",)),
                    user=chance.choice(users),
                    realm=estate.config.realm.upper(),
                )
                lines.append(f"{moment.isoformat(timespec='seconds')} {host.name} {text}\n")
            yield f"{root}/{day.isoformat()}/{host.name}.log", "".join(lines).encode()


@dataclass(frozen=True)
class SeededLease:
    address: str
    mac: str
    start: datetime.datetime
    valid_seconds: int


def long_lease(estate: Estate, today: datetime.date) -> SeededLease:
    """A lease of six days among the seeded records, given ten days before `today`."""
    subnet = next(s for s in dhcp_subnets(estate) if s.kind == "data")
    start = datetime.datetime.combine(today - datetime.timedelta(days=10), datetime.time(9),
                                      datetime.timezone(datetime.timedelta(hours=3)))  # fmt: skip
    return SeededLease(str(IPv4Address(subnet.pool[0]) + 21), "52:54:00:06:06:06", start,
                       6 * 86400)  # fmt: skip


def lease_files(estate: Estate, root: str, today: datetime.date) -> Iterator[tuple[str, bytes]]:
    """(path, content) of the primary DC's lease records, as its lease channel files them."""
    subnets = [s for s in dhcp_subnets(estate) if s.kind == "data"]
    if not subnets:
        return
    dc, valid = estate.primary_dc.name, estate.config.dhcp.lease_seconds
    long = long_lease(estate, today)
    for days_ago in range(LOG_DAYS, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        chance = random.Random(f"bimkit seed leases {day}")
        moment = datetime.datetime.combine(day, datetime.time(7), long.start.tzinfo)
        events = []
        for _ in range(chance.randint(20, 60)):
            moment += datetime.timedelta(seconds=chance.randint(10, 900))
            subnet = chance.choice(subnets)
            address = IPv4Address(subnet.pool[0]) + chance.randint(30, 200)
            mac = "52:54:00:" + ":".join(f"{chance.randint(0, 255):02x}" for _ in range(3))
            events.append((moment, address, mac, f"pc{chance.randint(1, 99)}", valid))
        if day == long.start.date():
            events.append((long.start, IPv4Address(long.address), long.mac, "uzun-kira",
                           long.valid_seconds))  # fmt: skip
        lines = [
            f"{at.isoformat(timespec='seconds')} {dc} bimkit-dhcp: event=commit "
            f"address={address} mac={mac} hostname={name} start={int(at.timestamp())} "
            f"valid={seconds}\n"
            for at, address, mac, name, seconds in sorted(events)
        ]
        yield f"{root}/{day.isoformat()}/{dc}.leases", "".join(lines).encode()


def files_for(
    estate: Estate, host: PlacedHost, today: datetime.date
) -> Iterator[tuple[str, bytes]]:
    """The seed data of `host`: documents on a file server, syslog on a log server."""
    if host.has(Role.file_server):
        yield from share_files(estate, estate.policy("file-shares").paths[0])
    if host.has(Role.log_server):
        yield from log_files(estate, estate.policy("logs").paths[0], today)
        yield from lease_files(estate, estate.policy("logs").paths[0], today)


def seed(machine_root: Path, files: Iterator[tuple[str, bytes]]) -> int:
    """Write `files` under `machine_root` once; the number written (0 when seeded before)."""
    marker = machine_root / MARKER
    if marker.exists():
        return 0
    count = 0
    for path, content in files:
        target = machine_root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, 0o640)
        count += 1
    if count:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{count} files\n", encoding="utf-8")
    return count
