"""The workstation's join: the only step that needs a domain administrator's password."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import FindInFile

from roles.operations import staged_secret
from roles.workstation.facts import DomainJoined
from roles.workstation.plan import MKHOMEDIR, join_command


@operation()
def joined(realm: str, data: dict[str, Any], password: str) -> Generator[Any, None, None]:
    """The host is a member of `realm`, with a working computer account.

    + realm: the AD realm
    + data: the host's inventory data (its site picks the OU)
    + password: the domain administrator's (secret `ad_admin_password`)

    The password is written to a root-only file only for the join, which removes
    it whatever happens; it never appears in a command line or a log.
    """
    if host.get_fact(DomainJoined, realm=realm, dc=data["join_dc"]):
        host.noop(f"{host.name} is a member of {realm}")
        return
    staged = yield from staged_secret("ad-join", password)
    yield join_command(host.name, data, staged)


@operation()
def home_made_at_first_sign_in() -> Generator[Any, None, None]:
    """pam_mkhomedir in the PAM session stack (Debian's `mkhomedir` profile)."""
    if host.get_fact(FindInFile, path="/etc/pam.d/common-session", pattern="pam_mkhomedir"):
        host.noop("pam_mkhomedir is in /etc/pam.d/common-session")
        return
    yield MKHOMEDIR
