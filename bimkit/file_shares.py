"""The file server's shares and who may use them, from the directory data (pure).

A müdürlük gets a share named after its id. A unit gets a folder inside its
müdürlük's share, or a share of its own when `departments.yaml` says
`own_share: true`. Who may do what:

- a unit's folder: the unit changes it; the müdürlük's managers (`managers:`,
  the group `<müdürlük>-yonetim`) read it; no other unit enters it;
- a müdürlük's top folder: its managers change it, all its staff (its units
  too) read it; a müdürlük without units: all its staff change it;
- `ortak`: all staff change it; home folders: each person their own;
- `bim-admins` has full control everywhere; nobody else enters.

`access_table` derives, from the same rules, what each person and group may
do with each folder: `bimkit plan --access` prints it, the lab test tries it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from bimkit.directory import desired_directory
from bimkit.model.estate import Estate
from bimkit.model.names import managers_group

SHARES_ROOT = "/srv/shares"
"""What the `file-shares` backup policy protects (estate.yaml)."""
COMMON_SHARE = "ortak"
HOMES_FOLDER = "home"
ADMINS = "bim-admins"
"""Full control of every share (the group of `directory/groups.yaml`)."""
ALL_STAFF = "Domain Users"
"""The AD group every account is in."""


@dataclass(frozen=True)
class Folder:
    """A folder under the shares root and the AD groups that may use it."""

    path: str
    """Relative to the shares root, e.g. `fen-isleri` or `bilgi-islem/yazilim`."""
    share: str | None
    """Its SMB share name, when it is one (a unit's folder inside a share is not)."""
    comment: str
    change: tuple[str, ...]
    """Groups that read and write."""
    read: tuple[str, ...] = ()
    """Groups that only read."""


def desired_folders(estate: Estate) -> list[Folder]:
    """Every share and unit folder, parents before children."""
    folders = [Folder(COMMON_SHARE, COMMON_SHARE, "Ortak klasör", change=(ALL_STAFF,))]
    for department in estate.departments.values():
        path = estate.department_path(department.id)
        # The nearest department (itself or a parent) that has a share of its own.
        owner = next(d for d in reversed(path) if d.parent is None or d.own_share)
        relative = "/".join(d.id for d in path[path.index(owner) :])
        share = department.id if department is owner else None
        managers = managers_group(path[0].id)
        if department.parent is None and estate.units_of(department.id):
            # Its managers change it; its units (all in the müdürlük's group) only read it.
            access = Folder(relative, share, department.name, (managers,), (department.id,))
        elif department.parent is None:
            access = Folder(relative, share, department.name, (department.id,))
        else:
            access = Folder(relative, share, department.name, (department.id,), (managers,))
        folders.append(access)
    return sorted(folders, key=lambda folder: (folder.path.count("/"), folder.path))


class Access(StrEnum):
    none = "none"
    read = "read"
    write = "write"


def people_groups(estate: Estate) -> dict[str, frozenset[str]]:
    """Each active person (username) -> the groups they act as on the file server."""
    member_of: dict[str, set[str]] = {}
    for group in desired_directory(estate).groups.values():
        for username in group.members:
            member_of.setdefault(username, set()).add(group.name)
    return {member.username: frozenset({ALL_STAFF, *member_of.get(member.username, ())})
            for member in estate.members if member.person.active}  # fmt: skip


def _grant(groups: frozenset[str], folder: Folder) -> Access:
    if ADMINS in groups or groups & set(folder.change):
        return Access.write
    return Access.read if groups & set(folder.read) else Access.none


def access_table(estate: Estate) -> dict[str, dict[str, Access]]:
    """principal -> folder path -> what it may do there. For a person (username), traversal
    of the folders above counts (a folder one cannot enter hides what is inside); for a group,
    its own grants (its members reach a unit's folder through their müdürlük's group)."""
    folders = desired_folders(estate)
    by_path = {folder.path: folder for folder in folders}
    table: dict[str, dict[str, Access]] = {}
    for person, groups in people_groups(estate).items():
        row = {}
        for folder in folders:
            parts = folder.path.split("/")
            above = ["/".join(parts[:n]) for n in range(1, len(parts))]
            reachable = all(_grant(groups, by_path[path]) is not Access.none for path in above)
            row[folder.path] = _grant(groups, folder) if reachable else Access.none
        table[person] = row
    for group in sorted(desired_directory(estate).groups):
        table[group] = {f.path: _grant(frozenset({group}), f) for f in folders}
    return table


def file_server_data(estate: Estate) -> dict[str, object]:
    """The file server's inventory data (`file_shares`): what roles/file_server applies."""
    return {
        "root": SHARES_ROOT,
        "homes": HOMES_FOLDER,
        "admins": ADMINS,
        "folders": [dataclasses.asdict(folder) for folder in desired_folders(estate)],
        "renamed_homes": renamed_homes(estate),
    }


def renamed_homes(estate: Estate) -> list[dict[str, str]]:
    """Each username given up by a rename -> the person's username now: their home folder
    moves with them (the account keeps its SID, so the folder keeps its owner and ACL)."""
    now = {member.person.id: member.username for member in estate.members}
    return [
        {"from": old, "to": now[person]}
        for old, person in sorted(estate.retired_usernames.items())
        if person in now and now[person] != old
    ]


def mounted_shares(estate: Estate, server: str) -> dict[str, object]:
    """What a workstation mounts at sign-in from file server `server` (FQDN): each share
    for the group it belongs to (pam_mount mounts those a person is a member of), and the
    person's home folder."""
    return {
        "server": server,
        "shares": [
            # A share is mounted for its department's group: all its staff, units too.
            {"name": folder.share, "group": None if folder.path == COMMON_SHARE else folder.share}
            for folder in desired_folders(estate)
            if folder.share is not None
        ],
    }
