"""Windows Server AD DS domain controllers: not built yet.

Where a Windows backend goes. It will reach hosts through pyinfra's WinRM
connector and use the same pure plans as the Samba backend:
`bimkit.directory.plan_directory` (actions mapped to the ActiveDirectory
PowerShell module), the estate's password policy, the reverse zones and
`bimkit.dc_health` verdicts. Until then a Windows DC in the data stops its
deploy with a clear error instead of being skipped silently.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import server


def unsupported_command(host_name: str) -> str:
    return (
        f"echo '{host_name}: Windows domain controllers are not supported yet "
        "(bimkit has no WinRM backend); run Samba AD DCs on Debian' >&2; exit 1"
    )


@deploy("bimkit domain controller (Windows)")
def apply() -> None:
    server.shell(name="Windows AD DS backend", commands=[unsupported_command(host.name)])
