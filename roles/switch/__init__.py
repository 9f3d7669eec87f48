"""roles/switch: access switches configured from their port plans (netmiko connector).

Variables: roles/switch/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host

from roles.switch.operations import configured


@deploy("bimkit switch")
def apply() -> None:
    configured(
        name="Running configuration as the port plan says (hier_config remediation)",
        plan=host.data.switch,
    )
