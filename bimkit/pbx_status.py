"""What `bimkit pbx status` reports, from Asterisk's own CLI output on the PBX (pure).

The CLI runs `asterisk -rx` over SSH (`STATUS_COMMAND`) and these functions read
its answers: registered contacts, queues and their members, voicemail boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address

from bimkit.model.estate import Estate
from bimkit.model.telephony import sip_devices
from dr.asterisk import plain

VOICEMAIL_LIMIT = 100
"""voicemail.conf's maxmsg (roles/pbx): a box holding this many messages is full."""

MARK = "=== bimkit {} ==="
STATUS_COMMAND = "; ".join([
    f"echo '{MARK.format('contacts')}'", "asterisk -rx 'pjsip show contacts'",
    f"echo '{MARK.format('queues')}'", "asterisk -rx 'queue show'",
    f"echo '{MARK.format('voicemail')}'",
    "find /var/spool/asterisk/voicemail/default -path '*/INBOX/msg*.txt' 2>/dev/null",
])  # fmt: skip

_CONTACT = re.compile(r"^\s*Contact:\s+(\d+)/sip:[^@\s]+@(\d+\.\d+\.\d+\.\d+)")


def sections(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    name = ""
    for line in plain(output).splitlines():
        match = re.fullmatch(r"=== bimkit (\w+) ===", line.strip())
        if match:
            name = match[1]
            found[name] = ""
        elif name:
            found[name] += line + "\n"
    return found


def registered_contacts(text: str) -> dict[int, IPv4Address]:
    """extension -> the address it registered from."""
    contacts = {}
    for line in text.splitlines():
        match = _CONTACT.match(line)
        if match:
            contacts[int(match[1])] = IPv4Address(match[2])
    return contacts


def voicemail_counts(text: str) -> dict[int, int]:
    """box -> messages waiting in its INBOX."""
    counts: dict[int, int] = {}
    for line in text.splitlines():
        parts = line.strip().split("/")
        if len(parts) >= 3 and parts[-2] == "INBOX" and parts[-3].isdigit():
            counts[int(parts[-3])] = counts.get(int(parts[-3]), 0) + 1
    return counts


@dataclass(frozen=True)
class Registrations:
    group: str
    """A site (its phones) or `staff` (people's phones, wherever they are)."""
    registered: list[int]
    expected: list[int]

    @property
    def missing(self) -> list[int]:
        return sorted(set(self.expected) - set(self.registered))


def registrations(estate: Estate, contacts: dict[int, IPv4Address]) -> list[Registrations]:
    """Registered / expected per site for site phones, and for the staff's phones."""
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for device in sip_devices(estate):
        group = device.site or "staff"
        registered, expected = groups.setdefault(group, ([], []))
        expected.append(device.extension)
        if device.extension in contacts:
            registered.append(device.extension)
    return [Registrations(name, sorted(r), sorted(e)) for name, (r, e) in sorted(groups.items())]
