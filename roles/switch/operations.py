"""Operations on network devices: the running configuration brought to the plan, safely."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from pyinfra.api.command import FunctionCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from bimkit.secrets import SecretSpec, load_secrets
from roles.switch.device import DeviceError, safe_apply
from roles.switch.facts import RunningConfig, SnmpUsers
from roles.switch.plan import credential_lines, remediation, snmp_user_missing

logger = logging.getLogger("bimkit.switch")


@operation()
def configured(plan: dict[str, Any]) -> Generator[FunctionCommand, None, None]:
    """Send the switch only what differs from its plan (hier_config), with a rollback armed.

    + plan: the switch's vendor-neutral plan (host data `switch`)

    The remediation is printed before it is sent, and with `--dry` instead of being sent.
    SNMPv3 credentials are sent only when the device lacks the user; never printed.
    """
    running = host.get_fact(RunningConfig, platform=plan["platform"])
    commands = remediation(plan, running)
    needs_snmp_user = snmp_user_missing(plan, host.get_fact(SnmpUsers, platform=plan["platform"]))
    if not commands and not needs_snmp_user:
        host.noop(f"{host.name} is as its port plan says")
        return
    shown = commands + (["(SNMPv3 user with its credentials)"] if needs_snmp_user else [])
    logger.warning("%s: remediation (%d lines):\n%s", host.name, len(shown), "\n".join(shown))
    yield FunctionCommand(_apply, (plan, running, commands, needs_snmp_user), {})


def _apply(
    state: Any, host: Any, plan: dict[str, Any], running: str, commands: list[str],
    needs_snmp_user: bool,
) -> bool:  # fmt: skip
    connector = host.connector
    lines = list(commands)
    if needs_snmp_user:
        names = ("snmp_auth_password", "snmp_priv_password")
        secrets = load_secrets([SecretSpec(name, "", host.name) for name in names])
        lines += credential_lines(plan, *(secrets.get(name) for name in names))
    try:
        safe_apply(connector.endpoint, connector.session, running, lines, log=logger.warning)
    except DeviceError as error:
        logger.error("%s", error)
        connector.session = None
        return False
    try:
        connector.reconnect()  # the change ended the session it was sent on
    except DeviceError as error:
        logger.warning("%s", error)
    return True
