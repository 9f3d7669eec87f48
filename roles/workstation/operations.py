"""The workstation's join, with a one-time password the primary DC sets (roles/join)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import FindInFile

from bimkit.directory import computer_name, computer_ou
from roles.join import one_time_join
from roles.workstation.facts import DomainJoined
from roles.workstation.plan import MKHOMEDIR, join_argv


@operation()
def joined(realm: str, data: dict[str, Any]) -> Generator[Any, None, None]:
    """The host is a member of `realm`, with a working computer account.

    + realm: the AD realm
    + data: the host's inventory data (its site picks the OU, `join_dc_host` the DC)

    Joined with a one-time password the primary DC sets for this join alone: the
    domain's Administrator password never reaches a workstation.
    """
    if host.get_fact(DomainJoined, realm=realm, dc=data["join_dc"]):
        host.noop(f"{host.name} is a member of {realm}")
        return
    yield from one_time_join(
        data["join_dc_host"], computer_name(host.name), computer_ou(realm, data["site"]),
        join_argv(host.name, data), then="systemctl try-restart sssd",
    )  # fmt: skip


@operation()
def home_made_at_first_sign_in() -> Generator[Any, None, None]:
    """pam_mkhomedir in the PAM session stack (Debian's `mkhomedir` profile)."""
    if host.get_fact(FindInFile, path="/etc/pam.d/common-session", pattern="pam_mkhomedir"):
        host.noop("pam_mkhomedir is in /etc/pam.d/common-session")
        return
    yield MKHOMEDIR
