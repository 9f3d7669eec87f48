"""What a role wants on a host, as data: files, folders, services (pure).

Roles plan these; `roles.operations.converge` compares them with the host in
one round trip and changes only what differs. One operation per role step
instead of one per file: a converged deploy asks each host once, not fifty times.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PENDING = "/var/lib/bimkit/pending"
"""One marker per follow-up command owed: made before the files change, removed when the
command succeeds. A restart that failed is still owed at the next deploy, although the
files it follows are in place by then."""


@dataclass(frozen=True)
class ManagedFile:
    """A file with exactly this content, mode and owner."""

    path: str
    content: str
    mode: str = "644"
    user: str = "root"
    group: str = "root"
    private: bool = False
    """Derived from a secret: prepared in a root-only folder, never shown in a diff."""
    then: tuple[str, ...] = ()
    """Commands to run when this file changed (daemon-reload, a restart), after all files."""


@dataclass(frozen=True)
class ManagedDirectory:
    path: str
    mode: str = "755"
    user: str = "root"
    group: str = "root"
    then: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManagedLink:
    """A symbolic link to `target` (e.g. a unit masked by a link to /dev/null)."""

    path: str
    target: str
    then: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    """A systemd unit (service or timer) that is enabled and running."""

    unit: str


@dataclass(frozen=True)
class Absent:
    """A file that must not exist (e.g. a forwarding rule on the log server itself)."""

    path: str
    then: tuple[str, ...] = ()


State = ManagedFile | ManagedDirectory | ManagedLink | Service | Absent
Changed = ManagedFile | ManagedDirectory | ManagedLink | Absent


def then_commands(changed: list[Changed]) -> list[str]:
    """The follow-up commands of what changed, each once, in their first order."""
    seen: dict[str, None] = {}
    for item in changed:
        for command in item.then:
            seen.setdefault(command, None)
    return list(seen)


def pending_marker(command: str) -> str:
    """The file that says `command` is owed (PENDING)."""
    return f"{PENDING}/{hashlib.sha256(command.encode()).hexdigest()[:16]}"


def markers(wanted: list[State]) -> list[str]:
    """The pending markers of every follow-up command `wanted` may run."""
    return [pending_marker(c) for c in then_commands(_followed(wanted))]


def _followed(wanted: list[State]) -> list[Changed]:
    return [item for item in wanted if not isinstance(item, Service)]


@dataclass(frozen=True)
class Differences:
    """What of a role's wanted state the host does not have yet."""

    directories: list[ManagedDirectory]
    links: list[ManagedLink]
    files: list[ManagedFile]
    absent: list[Absent]
    """Unwanted paths that exist."""
    services: list[Service]
    """Units not both enabled and active."""
    follow_ups: list[str]
    """The changed items' `then` commands, and those a failed deploy still owes."""

    def __bool__(self) -> bool:
        return bool(self.directories or self.links or self.files or self.absent or self.services
                    or self.follow_ups)  # fmt: skip

    def changed(self) -> list[Changed]:
        return [*self.directories, *self.links, *self.files, *self.absent]


def differences(
    wanted: list[State],
    paths: dict[str, dict[str, str]],
    services: dict[str, tuple[str, str]],
    sha256: dict[str, str],
) -> Differences:
    """Compare `wanted` with the host's `paths` and `services` (the facts) (pure).

    + sha256: each wanted file's content hash, path -> hex digest
    """

    def owned(item: ManagedFile | ManagedDirectory, kind: str) -> bool:
        found = paths.get(item.path)
        return (
            found is not None
            and found["type"] == kind
            and found["mode"] == item.mode.lstrip("0")
            and (found["user"], found["group"]) == (item.user, item.group)
        )

    directories = [
        item for item in wanted if isinstance(item, ManagedDirectory) and not owned(item, "d")
    ]
    links = [
        item
        for item in wanted
        if isinstance(item, ManagedLink)
        and paths.get(item.path, {}).get("sha256") != f"-> {item.target}"
    ]
    files = [
        item
        for item in wanted
        if isinstance(item, ManagedFile)
        and not (owned(item, "f") and paths[item.path]["sha256"] == sha256[item.path])
    ]
    absent = [item for item in wanted if isinstance(item, Absent) and item.path in paths]
    changed = then_commands([*directories, *links, *files, *absent])
    owed = [c for c in then_commands(_followed(wanted)) if pending_marker(c) in paths]
    return Differences(
        directories=directories,
        links=links,
        files=files,
        absent=absent,
        services=[
            item
            for item in wanted
            if isinstance(item, Service) and services.get(item.unit) != ("active", "enabled")
        ],
        follow_ups=changed + [c for c in owed if c not in changed],
    )
