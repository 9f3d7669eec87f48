"""One SSH session to a network device (netmiko), and the safe way to change its configuration.

`safe_apply` arms the platform's rollback before it sends a change, then
checks from a new connection that the device still answers on its management
address, and only then confirms and saves. If the device does not answer,
the rollback returns it to the configuration it had, and `safe_apply`
waits to see it back before it reports the failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)
from paramiko.ssh_exception import SSHException

from bimkit.errors import BimkitError

ROLLBACK_MINUTES = 2
"""How long a change stands unconfirmed before the device takes it back."""


class DeviceError(BimkitError):
    """A device could not be reached, signed in to or changed; the message names it."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    device_type: str
    host: str
    port: int
    username: str
    password: str
    minute_seconds: float = 60.0
    """A minute of the device's rollback timer (shorter on the lab's simulated switches)."""
    known_hosts: str | None = None
    """Pinned host keys (`bimkit hostkeys scan`): a device offering another key is refused.
    None only in the lab, whose simulated switches are made afresh for each run."""


@dataclass(frozen=True)
class Rollback:
    """A platform's way to take back an unconfirmed change."""

    arm: str
    """The command that enters configuration mode with the rollback armed."""
    confirm: str
    revert_now: str | None
    """Takes the change back at once, where the platform can."""
    needs: tuple[str, ...]
    """Configuration the rollback needs first (IOS: an archive path)."""


ROLLBACKS: dict[str, Rollback] = {
    # IOS Configuration Replace and Rollback: `configure confirm` ends the timer.
    "cisco_ios": Rollback(
        arm=f"configure terminal revert timer {ROLLBACK_MINUTES}",
        confirm="configure confirm",
        revert_now="configure revert now",
        needs=("archive", " path flash:bimkit-archive", " maximum 14"),
    ),
    # AOS-S has no confirmed commit: a scheduled reload returns to the saved startup
    # configuration unless `no reload` cancels it. Not yet tried on a device.
    "hp_procurve": Rollback(
        arm=f"reload after {ROLLBACK_MINUTES}\nconfigure terminal",
        confirm="no reload",
        revert_now=None,
        needs=(),
    ),
    # VRP on access switches: a scheduled reboot to the saved configuration, the same way.
    # Not yet tried on a device.
    "huawei": Rollback(
        arm=f"schedule reboot delay 00:{ROLLBACK_MINUTES:02d}\nsystem-view",
        confirm="undo schedule reboot",
        revert_now=None,
        needs=(),
    ),
}


def connect(endpoint: Endpoint, timeout: float = 20) -> Any:
    """A signed-in netmiko session; a failure names the device and the cause."""
    where = f"switch `{endpoint.name}` ({endpoint.host}:{endpoint.port})"
    try:
        return ConnectHandler(
            device_type=endpoint.device_type,
            host=endpoint.host,
            port=endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            timeout=timeout,
            conn_timeout=timeout,
            auth_timeout=timeout,
            banner_timeout=timeout,
            fast_cli=False,
            allow_agent=False,
            use_keys=False,
            ssh_strict=endpoint.known_hosts is not None,
            system_host_keys=False,
            alt_host_keys=endpoint.known_hosts is not None,
            alt_key_file=endpoint.known_hosts or "",
        )
    except NetmikoAuthenticationException:
        raise DeviceError(
            f"{where}: the device refused user `{endpoint.username}`'s password "
            "(the `switch_password` secret)"
        ) from None
    except (NetmikoTimeoutException, OSError, SSHException) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        if "known_hosts" in str(error) or "host key" in str(error).lower():
            raise DeviceError(
                f"{where}: its SSH host key is not pinned in {endpoint.known_hosts} "
                f"({lines[-1]}); check it out of band, then `bimkit hostkeys scan "
                f"{endpoint.name}`"
            ) from None
        cause = next((line for line in lines if "paramiko" not in line), type(error).__name__)
        raise DeviceError(f"{where}: no SSH answer ({cause})") from None


def answers(endpoint: Endpoint) -> bool:
    """The device takes a new SSH session on its management address."""
    try:
        session = connect(endpoint, timeout=10)
    except DeviceError:
        return False
    session.disconnect()
    return True


def safe_apply(
    endpoint: Endpoint,
    session: Any,
    running: str,
    commands: list[str],
    log: Callable[[str], None],
) -> None:
    """Send `commands` with the rollback armed; confirm and save only if the device answers.

    `running` is the configuration they were computed from. Raises DeviceError when the
    change was taken back (naming the device), or could not be made.
    """
    rollback = ROLLBACKS[endpoint.device_type]
    if rollback.needs and rollback.needs[0] not in running.splitlines():
        session.send_config_set(list(rollback.needs))
    problem = ""
    try:
        output = session.send_config_set(
            commands, config_mode_command=rollback.arm, read_timeout=20
        )
        refused = [line.strip() for line in output.splitlines() if line.lstrip().startswith("%")]
        if refused:
            problem = f"the device refused part of the change: {'; '.join(refused)}"
        session.disconnect()
        cut = False
    except (ReadTimeout, OSError, EOFError) as error:
        # A session the device closed mid-change: it dropped off the network.
        cut = not session.is_alive()
        problem = f"the session ended while the change was sent ({type(error).__name__})"
    if not cut and answers(endpoint):
        now = connect(endpoint)
        try:
            if not problem:
                now.send_command_timing(rollback.confirm)
                now.save_config()
                return
            if rollback.revert_now:
                now.send_command_timing(rollback.revert_now)
                raise DeviceError(
                    f"switch `{endpoint.name}`: {problem}; the change was taken back and "
                    "nothing was saved"
                )
            raise DeviceError(
                f"switch `{endpoint.name}`: {problem}; it is not confirmed, so the switch "
                f"takes it back in {ROLLBACK_MINUTES} minutes"
            )
        finally:
            now.disconnect()
    wait = ROLLBACK_MINUTES * endpoint.minute_seconds
    log(f"{endpoint.name}: no answer on its management address after the change; "
        f"waiting up to {wait:.0f} s for its rollback")  # fmt: skip
    deadline = time.monotonic() + wait + 60
    while time.monotonic() < deadline:
        if answers(endpoint):
            raise DeviceError(
                f"switch `{endpoint.name}`: the change cut its management connection, so the "
                "switch took it back and answers again with its previous configuration; "
                "nothing was saved. Check the management VLAN and the uplink in the port plan"
            )
        time.sleep(max(1.0, endpoint.minute_seconds / 10))
    raise DeviceError(
        f"switch `{endpoint.name}`: the change cut its management connection and the switch "
        f"still does not answer {wait + 60:.0f} s later; it needs a visit (console port)"
    )
