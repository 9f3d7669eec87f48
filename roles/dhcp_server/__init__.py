"""roles/dhcp_server: ISC Kea on the DCs, a hot-standby pair for every data and voice VLAN.

Variables: roles/dhcp_server/README.md.
"""

from __future__ import annotations

from pathlib import Path

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.server import Arch
from pyinfra.operations import apt

from roles.dhcp_server.plan import (
    CHECK_CONFIG,
    KEA_CONF,
    LEASE_HOOK,
    PACKAGES,
    RESTART,
    SERVICE,
    kea_conf,
    lease_channel,
)
from roles.managed import ManagedFile, Service
from roles.operations import converge

FILES = Path(__file__).resolve().parent / "files"


@deploy("bimkit DHCP server (Kea)")
def apply() -> None:
    apt.packages(name="Kea DHCPv4 server", packages=list(PACKAGES))
    data = host.data.dict()
    config = kea_conf(host.name, data, host.get_fact(Arch))
    converge(
        name=f"Kea serves the estate's data and voice VLANs, leases logged ({KEA_CONF})",
        wanted=[
            *lease_channel(data),
            ManagedFile(LEASE_HOOK, (FILES / "bimkit_dhcp_lease.py").read_text(), mode="755"),
            # Kea checks the file before the restart: a bad one fails the deploy
            # while the running server keeps its last good configuration.
            ManagedFile(KEA_CONF, config, mode="640", group="_kea",
                        then=(CHECK_CONFIG, RESTART)),
            Service(SERVICE),
        ],
    )  # fmt: skip
