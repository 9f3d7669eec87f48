"""What `roles/file_server` wants on a file server: a Samba member server with the
departments' shares (pure).

The shares and their groups come from `bimkit.file_shares`, through the host's
inventory data (`file_shares`). IDs: winbind's `rid` backend gives a user the
uid sssd gives them on the workstations (roles/workstation's sssd.conf uses
the same range with `ldap_idmap_autorid_compat`): 200000 + the account's RID.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bimkit.directory import computer_name
from roles.domain_controller.plan import krb5_conf
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.templates import render

PACKAGES = (
    "samba",
    "winbind",
    "libnss-winbind",
    "krb5-user",
    "smbclient",  # admins' checks, and `net ads testjoin`'s friends
    "acl",  # setfacl/getfacl: the folders' permissions
    "attr",  # getfattr: the NT ACLs (security.NTACL) the backup keeps
)
SMB_CONF = "/etc/samba/smb.conf"
SAMBA_JOIN_HELPER = "/usr/local/sbin/bimkit-samba-join"
"""Joins with a one-time password through Samba's offline join (files/bimkit_samba_join.py)."""
FILES = Path(__file__).parent / "files"
NSSWITCH = "/etc/nsswitch.conf"
IDMAP_DOMAIN = (200000, 399999)
"""The realm's IDs, RID-based: as sssd's first slice with autorid compatibility."""
IDMAP_OTHER = (3000, 7999)
"""Well-known SIDs outside the realm (BUILTIN and the like)."""
RESTART_SAMBA = (
    "testparm -s >/dev/null",
    # Before the join winbind cannot start; the join starts it.
    "if net ads testjoin >/dev/null 2>&1; then systemctl restart winbind smbd; fi",
)
"""A broken smb.conf is never loaded: checked first."""


def workgroup(data: Mapping[str, Any]) -> str:
    return str(data["netbios_domain"]).upper()


def samba_text(text: str) -> str:
    """Free text as an smb.conf value: without `\\` (a trailing one continues the line into
    the next parameter) and `%` (Samba's substitutions, `%U` the user's name)."""
    return " ".join(text.replace("\\", " ").replace("%", " ").split())


def before_join(hostname: str, data: Mapping[str, Any]) -> list[State]:
    """Kerberos and Samba's settings, which the join reads; nsswitch for winbind."""
    shares = data["file_shares"]
    smb_conf = render(
        "file_server/smb.conf.j2",
        workgroup=workgroup(data),
        netbios_name=computer_name(hostname),
        realm=data["realm"].upper(),
        idmap_domain="{}-{}".format(*IDMAP_DOMAIN),
        idmap_other="{}-{}".format(*IDMAP_OTHER),
        root=shares["root"],
        homes=f"{shares['root']}/{shares['homes']}",
        shares=[{**folder, "comment": samba_text(folder["comment"])}
                for folder in shares["folders"] if folder["share"]],
    )  # fmt: skip
    return [
        ManagedFile("/etc/krb5.conf", krb5_conf(data)),
        ManagedFile(SMB_CONF, smb_conf, then=RESTART_SAMBA),
        ManagedFile(NSSWITCH, render("file_server/nsswitch.conf.j2")),
        ManagedFile(SAMBA_JOIN_HELPER, (FILES / "bimkit_samba_join.py").read_text(), mode="755"),
    ]


def join_argv(hostname: str, data: Mapping[str, Any]) -> list[str]:
    """The join as the computer account itself, its one-time password on stdin (roles/join
    readies it on the primary DC): Samba's offline join (files/bimkit_samba_join.py)."""
    return [SAMBA_JOIN_HELPER, data["join_dc"], data["join_dc_address"], data["realm"],
            computer_name(hostname)]  # fmt: skip


def home_moves(
    renamed: list[Mapping[str, str]], homes: str, found: Mapping[str, str]
) -> list[list[str]]:
    """The commands that move each renamed person's home folder to their new name.

    + renamed: `{"from": old username, "to": new username}` (bimkit.file_shares)
    + found: each folder's state (facts.FolderFilled: missing, empty or full)

    An empty folder under the new name (made by a sign-in before this deploy) gives way;
    one with files in it stops the deploy, so that neither folder's files are lost.
    """
    commands = []
    for move in renamed:
        old, new = f"{homes}/{move['from']}", f"{homes}/{move['to']}"
        if found.get(old, "missing") == "missing":
            continue
        if found.get(new, "missing") == "full":
            raise ValueError(f"the home folders {old} (before the rename) and {new} both "
                             "hold files; merge them by hand, then deploy again")  # fmt: skip
        if found.get(new) == "empty":
            commands.append(["rmdir", new])
        commands.append(["mv", "-T", old, new])
    return commands


def serving(data: Mapping[str, Any]) -> list[State]:
    """After the join: the shares' root, the homes' folder, the daemons."""
    shares = data["file_shares"]
    return [
        ManagedDirectory(shares["root"], mode="755"),
        # Everyone passes through to their own folder; nobody lists the others.
        ManagedDirectory(f"{shares['root']}/{shares['homes']}", mode="711"),
        Service("winbind.service"),
        Service("smbd.service"),
    ]


@dataclass(frozen=True)
class FolderAccess:
    """A folder's POSIX ACL, which Samba shows as its NT ACL (and which new files inherit)."""

    path: str
    entries: tuple[str, ...]
    """As `getfacl -n --omit-header` prints them, access then default entries."""

    def setfacl(self) -> list[str]:
        return ["setfacl", "--set", ",".join(self.entries), self.path]


def folder_access(
    folder: Mapping[str, Any], root: str, admins_gid: int, gids: Mapping[str, int]
) -> FolderAccess:
    """The ACL of one share or unit folder: its groups change or read it, the admins have
    full control, and nobody else may enter. The same as defaults, for what is made inside."""
    rights = {gids[group]: "r-x" for group in folder["read"]}
    rights |= {gids[group]: "rwx" for group in folder["change"]}
    rights[admins_gid] = "rwx"
    named_entries = [f"group:{gid}:{rights[gid]}" for gid in sorted(rights)]
    access = ["user::rwx", "group::---", *named_entries, "mask::rwx", "other::---"]
    return FolderAccess(f"{root}/{folder['path']}", (*access, *(f"default:{e}" for e in access)))
