"""The archive of the switches' running configurations: a git repository on the DR host.

Pure: the shell commands that write one file per device and commit them all
at once, and the one that shows a device's history. `bimkit net backup` runs
them over SSH on the DR host; git keeps every version and its diff.
"""

from __future__ import annotations

import base64
import re
import shlex

ARCHIVE = "/srv/network-configs"
"""On the DR host: one `<device>.cfg` per switch, one commit per `bimkit net backup`."""
CHUNK = 100_000
"""Bytes of command per SSH call: one argument of a command line may hold 128 KiB."""


VOLATILE = re.compile(
    r"^(Building configuration|Current configuration :|! Last configuration change at|"
    r"! NVRAM config last updated|ntp clock-period|!Time:|; Created on release)"
)
"""Lines a device changes without a configuration change (IOS's byte count and change
times, its clock drift): left out, so that a commit is a real change, as RANCID does."""


def stable(config: str) -> str:
    return "\n".join(line for line in config.splitlines() if not VOLATILE.match(line)) + "\n"


def archive_file(device: str) -> str:
    return f"{device}.cfg"


def init_command() -> str:
    folder = shlex.quote(ARCHIVE)
    return f"mkdir -p -m 700 {folder} && cd {folder} && {{ [ -d .git ] || git init -q; }}"


def write_commands(configs: dict[str, str]) -> list[str]:
    """Commands that write each device's configuration, grouped to stay under CHUNK."""
    commands: list[str] = []
    current: list[str] = []
    for device, text in sorted(configs.items()):
        encoded = base64.b64encode(stable(text).encode()).decode()
        path = shlex.quote(f"{ARCHIVE}/{archive_file(device)}")
        step = f"printf %s {encoded} | base64 -d > {path}"
        if current and sum(map(len, current)) + len(step) > CHUNK:
            commands.append(" && ".join(current))
            current = []
        current.append(step)
    if current:
        commands.append(" && ".join(current))
    return commands


def commit_command(message: str, domain: str) -> str:
    """Commit whatever changed; prints the new commit's per-file line counts, or UNCHANGED."""
    folder = shlex.quote(ARCHIVE)
    author = f"-c user.name=bimkit -c user.email={shlex.quote('bimkit@' + domain)}"
    return (
        f"cd {folder} && git add -A && if git diff --cached --quiet; then echo UNCHANGED; "
        f"else git {author} commit -q -m {shlex.quote(message)} && "
        "git rev-parse --short HEAD && git show --numstat --format= HEAD; fi"
    )


def history_command(device: str) -> str:
    folder = shlex.quote(ARCHIVE)
    return (
        f"cd {folder} && git log --date=iso --format='commit %h  %ad%n%s%n' -p "
        f"-- {shlex.quote(archive_file(device))}"
    )


def numstat(output: str) -> dict[str, tuple[int, int]]:
    """`git show --numstat` lines -> device -> (lines added, lines removed)."""
    changed = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].endswith(".cfg") and parts[0].isdigit():
            changed[parts[2].removesuffix(".cfg")] = (int(parts[0]), int(parts[1]))
    return changed
