"""roles/dr_runtime: bimkit's host runtime (`dr/`) on backup agents and the DR host.

One package, versioned by its content, installed under /usr/local/lib/bimkit
and switched as a whole; its commands (bimkit-backup, bimkit-dr,
bimkit-drill, ...) in /usr/local/sbin. The roles that use it only write
their configuration and units.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.operations import apt

from roles.dr_runtime.operations import installed
from roles.dr_runtime.plan import PACKAGES, runtime


@deploy("bimkit host runtime")
def apply() -> None:
    apt.packages(name="What the host runtime imports (Debian 13)", packages=list(PACKAGES))
    package = runtime()
    installed(name=f"bimkit host runtime {package.version}", runtime=package)
