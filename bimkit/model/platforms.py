"""What each switch platform can be told: the limits validation checks before any render.

One row per platform bimkit configures. A port plan the platform cannot carry
is a validation error naming the switch, never a template that silently
drops a line.
"""

from __future__ import annotations

from dataclasses import dataclass

from bimkit.model.schema import OsFamily


@dataclass(frozen=True)
class SwitchPlatform:
    name: OsFamily
    title: str
    max_port: int
    """Highest front-panel port of the platform's access switches in one unit."""
    ssh_key_types: frozenset[str]
    """Public key types the platform takes for a local account."""
    whole_percent_storm_control: bool
    """Storm control is set in whole percent (AOS-S `broadcast-limit`, VRP `-suppression`)."""


PLATFORMS: dict[OsFamily, SwitchPlatform] = {
    OsFamily.cisco_ios: SwitchPlatform(
        OsFamily.cisco_ios,
        "Cisco IOS",
        max_port=52,
        ssh_key_types=frozenset({"ssh-rsa"}),  # `ip ssh pubkey-chain` key-string: RSA only
        whole_percent_storm_control=False,
    ),
    OsFamily.aruba_aoss: SwitchPlatform(
        OsFamily.aruba_aoss,
        "HP ProCurve / Aruba AOS-S",
        max_port=52,
        ssh_key_types=frozenset({"ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384"}),
        whole_percent_storm_control=True,
    ),
    OsFamily.huawei_vrp: SwitchPlatform(
        OsFamily.huawei_vrp,
        "Huawei VRP",
        max_port=52,
        ssh_key_types=frozenset({"ssh-rsa"}),  # `rsa peer-public-key ... encoding-type openssh`
        whole_percent_storm_control=True,
    ),
}
