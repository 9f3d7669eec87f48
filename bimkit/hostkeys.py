"""Pinned SSH host keys: the estate's known_hosts, kept beside the data.

A deploy trusts a host only by the key recorded here (pyinfra's strict host
key checking), never by the first key it sees. `bimkit hostkeys scan`
records keys, `bimkit hostkeys check` compares what hosts offer with what is
recorded. A recorded key is replaced only when the admin names the host.

    dc1,10.21.17.10 ssh-ed25519 AAAAC3Nza...
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bimkit.errors import BimkitError
from bimkit.files import write_atomically
from bimkit.model.estate import Estate

KNOWN_HOSTS_FILE = "known_hosts"
"""Beside estate.yaml: the keys every deploy checks hosts against."""
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa")
HEADER = (
    "# SSH host keys of the estate's hosts, written by `bimkit hostkeys scan`.\n"
    "# pyinfra trusts a host only by these (StrictHostKeyChecking=yes).\n"
)

Keys = dict[str, frozenset[str]]
"""host name -> its keys as `type base64` strings."""


class KeyState(StrEnum):
    ok = "OK"
    changed = "CHANGED"
    not_recorded = "NOT RECORDED"
    unreachable = "UNREACHABLE"


@dataclass(frozen=True)
class HostTarget:
    name: str
    address: str


def parse_known_hosts(text: str) -> Keys:
    """The recorded keys by host name (the first name of each line's host list)."""
    keys: dict[str, set[str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or line.lstrip().startswith("#"):
            continue
        name = fields[0].split(",")[0]
        keys.setdefault(name, set()).add(f"{fields[1]} {fields[2]}")
    return {name: frozenset(found) for name, found in keys.items()}


def parse_keyscan(output: str) -> frozenset[str]:
    """`type base64` of each key in ssh-keyscan's output (comments and banners ignored)."""
    found = set()
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#") and fields[1] in KEY_TYPES:
            found.add(f"{fields[1]} {fields[2]}")
    return frozenset(found)


def compare(recorded: Keys, offered: Mapping[str, frozenset[str]]) -> dict[str, KeyState]:
    """Each scanned host's state; an empty offer means the host did not answer."""
    states = {}
    for name, keys in offered.items():
        if not keys:
            states[name] = KeyState.unreachable
        elif name not in recorded:
            states[name] = KeyState.not_recorded
        elif keys == recorded[name]:
            states[name] = KeyState.ok
        else:
            states[name] = KeyState.changed
    return states


def known_hosts_text(keys: Keys, targets: Iterable[HostTarget]) -> str:
    """The file: one line per key, `name,address type key`, in host name order."""
    addresses = {target.name: target.address for target in targets}
    lines = [
        f"{name},{addresses[name]} {key}" if name in addresses else f"{name} {key}"
        for name in sorted(keys)
        for key in sorted(keys[name])
    ]
    return HEADER + "".join(line + "\n" for line in lines)


def known_hosts_path(estate: Estate) -> Path:
    """The estate's known_hosts file, beside its estate.yaml."""
    return (estate.data_root or Path.cwd()) / KNOWN_HOSTS_FILE


def recorded_keys(path: Path) -> Keys:
    return parse_known_hosts(path.read_text(encoding="utf-8")) if path.exists() else {}


def merged(
    recorded: Keys, offered: Mapping[str, frozenset[str]], replace: Iterable[str]
) -> tuple[Keys, list[str]]:
    """Keys with the newly scanned hosts added; a changed key only for hosts in `replace`.

    Returns the keys and the hosts whose offered key differs and was not replaced.
    """
    replace = set(replace)
    keys = dict(recorded)
    refused = []
    for name, state in compare(recorded, offered).items():
        if state is KeyState.not_recorded or (state is KeyState.changed and name in replace):
            keys[name] = offered[name]
        elif state is KeyState.changed:
            refused.append(name)
    return keys, refused


def scan(targets: Iterable[HostTarget], timeout: int = 5) -> dict[str, frozenset[str]]:
    """What each host offers now (ssh-keyscan, in parallel); empty when it does not answer."""
    try:
        running = {
            target.name: subprocess.Popen(
                ["ssh-keyscan", "-T", str(timeout), "-t", "ed25519,ecdsa,rsa", target.address],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for target in targets
        }
    except FileNotFoundError:
        raise BimkitError(
            "hostkeys: ssh-keyscan is not installed (Debian: openssh-client)"
        ) from None
    return {name: parse_keyscan(process.communicate()[0]) for name, process in running.items()}


def write(path: Path, keys: Keys, targets: Iterable[HostTarget]) -> None:
    write_atomically(path, known_hosts_text(keys, targets))
