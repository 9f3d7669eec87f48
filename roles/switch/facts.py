"""Facts of a network device, asked through the netmiko connector (one CLI command each)."""

from __future__ import annotations

from pyinfra.api.facts import FactBase

from roles.switch.plan import driver


class RunningConfig(FactBase[str]):
    """The device's running configuration, as it prints it.

    "hostname zabita-sw1\\nvlan 10\\n name management\\n..."
    """

    def command(self, platform: str) -> str:
        return driver(platform).show_running

    def process(self, output: list[str]) -> str:
        return "\n".join(output)


class SnmpUsers(FactBase[str]):
    """The device's SNMPv3 users as it lists them (IOS keeps them out of its configuration).

    "User name: bimkit-nms\\nEngine ID: 800000090300\\n..."
    """

    @staticmethod
    def default() -> str:
        return ""  # no users: the device prints nothing

    def command(self, platform: str) -> str:
        return driver(platform).show_snmp_users

    def process(self, output: list[str]) -> str:
        return "\n".join(output)
