"""The file server's shares and who may use them, from the directory data (pure).

A müdürlük gets a share named after its id. A unit gets a folder inside its
müdürlük's share (the unit changes it, the müdürlük reads it), or a share
of its own when `departments.yaml` says `own_share: true`. Besides these:
the common share `ortak`, which all staff change, and home directories.
`bim-admins` has full control everywhere; nobody else reads a department's
files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bimkit.model.estate import Estate

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
        if department is owner:
            folders.append(Folder(relative, department.id, department.name, (department.id,)))
        else:
            parent = path[-2].id
            folders.append(Folder(relative, None, department.name, (department.id,), (parent,)))
    return sorted(folders, key=lambda folder: (folder.path.count("/"), folder.path))


def file_server_data(estate: Estate) -> dict[str, object]:
    """The file server's inventory data (`file_shares`): what roles/file_server applies."""
    return {
        "root": SHARES_ROOT,
        "homes": HOMES_FOLDER,
        "admins": ADMINS,
        "folders": [dataclasses.asdict(folder) for folder in desired_folders(estate)],
    }


def mounted_shares(estate: Estate, server: str) -> dict[str, object]:
    """What a workstation mounts at sign-in from file server `server` (FQDN): each share
    for the group it belongs to (pam_mount mounts those a person is a member of), and the
    person's home folder."""
    return {
        "server": server,
        "shares": [
            {
                "name": folder.share,
                "group": None if folder.path == COMMON_SHARE else folder.change[0],
            }
            for folder in desired_folders(estate)
            if folder.share is not None
        ],
    }
