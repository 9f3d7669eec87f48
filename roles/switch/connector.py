"""pyinfra connector for network devices over SSH (netmiko): `@netmiko/<name>` in the inventory.

Registered through the `pyinfra.connectors` entry point (pyproject.toml). A
"shell command" here is one CLI command of the device (`show running-config`),
so pyinfra facts work unchanged; files cannot be put or fetched. The
password of the account bimkit signs in with is the `switch_password` secret,
read on the control machine when the connection opens.

Host data: `netmiko_device_type`, `netmiko_host`, `netmiko_port` (22),
`netmiko_minute_seconds` (60; the lab's simulated switches run faster),
`netmiko_known_hosts` (the pinned keys beside the data) and `switch.login_user`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import ConnectError
from pyinfra.connectors.base import BaseConnector
from pyinfra.connectors.util import CommandOutput, OutputLine

from bimkit.errors import BimkitError
from bimkit.secrets import SecretSpec, load_secrets
from roles.switch.device import Endpoint, connect

PASSWORD = SecretSpec("switch_password", "", "")


def endpoint_of(name: str, data: Any) -> Endpoint:
    """How to reach the device: from its host data (anything with `.get`), with the password
    from the secrets."""
    password = load_secrets([PASSWORD]).get(PASSWORD.name)
    return Endpoint(
        name=name,
        device_type=data.get("netmiko_device_type"),
        host=data.get("netmiko_host"),
        port=int(data.get("netmiko_port") or 22),
        username=data.get("switch")["login_user"],
        password=password,
        minute_seconds=float(data.get("netmiko_minute_seconds") or 60),
        known_hosts=data.get("netmiko_known_hosts"),
    )


class NetmikoConnector(BaseConnector):
    handles_execution = True

    def __init__(self, state: Any, host: Any) -> None:
        super().__init__(state, host)
        self.session: Any = None
        self.endpoint: Endpoint | None = None

    @staticmethod
    def make_names_data(name: str) -> Iterator[tuple[str, dict[str, Any], list[str]]]:
        yield name, {}, []

    def connect(self) -> None:
        try:
            self.endpoint = endpoint_of(self.host.name, self.host.data)
            self.session = connect(self.endpoint)
        except BimkitError as error:  # unreachable, refused, a secret unset (DeviceError, ...)
            raise ConnectError(str(error)) from None

    def disconnect(self) -> None:
        if self.session is not None:
            self.session.disconnect()
            self.session = None

    def reconnect(self) -> Any:
        """A fresh session (after a change closed the old one)."""
        assert self.endpoint is not None
        self.disconnect()
        self.session = connect(self.endpoint)
        return self.session

    def run_shell_command(
        self, command: StringCommand, print_output: bool = False, print_input: bool = False,
        **arguments: Any,
    ) -> tuple[bool, CommandOutput]:  # fmt: skip
        text = command.get_raw_value() if hasattr(command, "get_raw_value") else str(command)
        try:
            output = self.session.send_command(text, read_timeout=60)
        except Exception as error:  # netmiko raises many kinds; the device is named
            message = f"{self.host.name}: `{text}` failed: {error}"
            return False, CommandOutput([OutputLine("stderr", message)])
        ok = "Invalid input" not in output and not output.lstrip().startswith("Error")
        lines = [OutputLine("stdout", line) for line in output.splitlines()]
        return ok, CommandOutput(lines)

    def put_file(self, *arguments: Any, **keywords: Any) -> bool:
        raise NotImplementedError("network devices take no files; use roles.switch operations")

    def get_file(self, *arguments: Any, **keywords: Any) -> bool:
        raise NotImplementedError("network devices give no files; use the RunningConfig fact")
