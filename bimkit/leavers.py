"""Leavers: disabled accounts and what they still own on the file servers (pure).

A person who leaves is disabled, not deleted (bimkit.directory): their files
stay in place, owned by the account, until their department takes them over.
`bimkit directory leavers` lists them with what they own, largest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bimkit.directory import directory_from_state


@dataclass(frozen=True)
class Leaver:
    username: str
    display_name: str
    person_id: str
    department: str
    files: int
    bytes: int
    uid: int | None
    """None when no file server resolves the account."""

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def leavers(
    directory_state: Mapping[str, Any],
    uids: Mapping[str, int],
    owned: Mapping[int, tuple[int, int] | list[int]],
) -> list[Leaver]:
    """Disabled accounts under bimkit's OUs, with the files and bytes their uid owns.

    + directory_state: the primary DC's directory (roles/domain_controller's DomainState)
    + uids: username -> uid on the file servers (the same on all: RID-based)
    + owned: uid -> (files, bytes), summed over the file servers' shares
    """
    directory = directory_from_state(directory_state)
    found = []
    for user in directory.users.values():
        if user.enabled or not directory.manages(user.ou):
            continue
        uid = uids.get(user.username)
        files, size = owned.get(uid, (0, 0)) if uid is not None else (0, 0)
        found.append(
            Leaver(
                username=user.username,
                display_name=user.attributes.get("displayName", ""),
                person_id=user.person_id or "",
                department=user.attributes.get("department", ""),
                files=files,
                bytes=size,
                uid=uid,
            )
        )
    return sorted(found, key=lambda leaver: (-leaver.bytes, leaver.username))


def add_owned(
    per_server: Mapping[str, Mapping[int, list[int]] | None],
) -> dict[int, tuple[int, int]]:
    """uid -> (files, bytes) over every file server (None: a server with no files at all)."""
    total: dict[int, tuple[int, int]] = {}
    for owned in per_server.values():
        for uid, (files, size) in (owned or {}).items():
            before = total.get(uid, (0, 0))
            total[uid] = (before[0] + files, before[1] + size)
    return total
