"""A member joins the realm without the domain's Administrator password.

The primary DC readies the member's computer account with a one-time password
(`bimkit-computer-account`, run by this deploy on the DC over its own SSH
connection); only that password reaches the member, which joins with it as
the computer account itself (`adcli join --login-type=computer`), and the join
replaces it at once. Root on a workstation who deletes its keytab gets a fresh
one-time password for its own computer account and nothing else; a DC that
cannot be reached fails the join, and no password travels. Each reset of an
existing account (a rejoin) is said in the deploy's output and logged on the
DC, so on the log server.
"""

from __future__ import annotations

import logging
import secrets
import shlex
from collections.abc import Generator
from typing import Any

from pyinfra.api.command import FunctionCommand, StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.host import Host
from pyinfra.api.state import State

from roles.domain_controller.plan import COMPUTER_ACCOUNT_HELPER
from roles.operations import staged_secret

log = logging.getLogger("bimkit.join")


class OneTimePassword:
    """A fresh password for one join; its repr never shows it (pyinfra prints commands)."""

    def __init__(self) -> None:
        # Upper, lower, digit and symbol: AD's complexity rule holds for computer accounts too.
        self.value = "Bj-1" + secrets.token_urlsafe(24)

    def __repr__(self) -> str:
        return "OneTimePassword(***)"


def ready_account(
    state: State, host: Host, dc: str, computer: str, ou: str, password: OneTimePassword
) -> None:
    """On the primary DC `dc` (an inventory name): create or reset `computer`$ in `ou` with
    `password` (on the helper's stdin, never in argv). Runs when the deploy executes."""
    primary = state.inventory.get_host(dc)
    if not primary.connected:
        primary.connect(raise_exceptions=True)
    ok, output = primary.run_shell_command(
        StringCommand(COMPUTER_ACCOUNT_HELPER, computer, ou, host.name),
        _stdin=password.value + "\n",
    )
    if not ok:
        said = (output.stderr or output.stdout).strip().splitlines()
        raise OperationError(
            f"{host.name}: the primary DC {dc} did not ready the computer account {computer}$ "
            f"in {ou} ({COMPUTER_ACCOUNT_HELPER}): {said[-1] if said else 'no output'}"
        )
    if "reset" in output.stdout:
        log.warning(
            "%s: rejoined: its computer account %s$ existed and was reset on %s for a "
            "one-time password (the host said it was not joined)", host.name, computer, dc,
        )  # fmt: skip


def one_time_join(
    dc: str, computer: str, ou: str, join: list[str], then: str = ""
) -> Generator[Any, None, None]:
    """The commands of a join: the DC readies the account, the host joins with the password
    from a root-only file its join command reads on stdin and removes whatever happens.

    + dc: the primary DC's inventory name
    + join: the join's argv (reads the one-time password on stdin)
    + then: a shell command after a successful join (services on the new keytab)
    """
    password = OneTimePassword()
    yield FunctionCommand(ready_account, (dc, computer, ou, password), {})
    staged = shlex.quote((yield from staged_secret("join-one-time", password.value)))
    yield StringCommand(
        f"{{ rm -f /etc/krb5.keytab; {shlex.join(join)} < {staged}; status=$?; "
        f"rm -f {staged}; [ $status = 0 ] || exit $status; {then or 'true'}; }}"
    )
