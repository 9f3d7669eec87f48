"""roles/domain_controller: the estate's domain controllers, by backend.

`samba` (Debian, Samba AD) is built; `windows` (AD DS over WinRM) has its
place but no implementation yet. Backend-neutral planning lives in
`bimkit.directory` (directory as code) and `bimkit.dc_health`.
"""

from __future__ import annotations

from pyinfra.context import host

from roles.domain_controller import samba, windows

_checked: set[str] = set()
"""DCs checked in this pyinfra run: deploys/site.py includes several deploys that check."""


def check_realm() -> None:
    """Before any other role, once per run: stop a DC whose domain is not the estate's realm,
    and a deploy whose directory data would be refused."""
    if host.name in _checked:
        return
    _checked.add(host.name)
    if host.data.os == "debian":
        samba.check_realm()


def apply() -> None:
    if host.data.os == "windows":
        windows.apply()
    else:
        samba.apply()
