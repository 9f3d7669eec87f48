"""roles/domain_controller: Samba AD domain controllers.

Now: the primary DC — packages, the realm provisioned once (a live domain is
never provisioned again), Kerberos and DNS client settings, samba-ad-dc
running. The additional DC's join, directory sync (`directory.py` plans it)
and health checks come next.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, server, systemd

from roles.domain_controller.facts import SambaProvisioned
from roles.domain_controller.plan import (
    FILE_SERVER_UNITS,
    HELPER,
    PACKAGES,
    PASSWORD_FILE,
    krb5_conf,
    provision_command,
    resolv_conf,
)
from roles.operations import secret_file

FILES = Path(__file__).resolve().parents[2] / "files" / "domain_controller"


@deploy("bimkit primary domain controller")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="Samba AD DC packages", packages=list(PACKAGES))
    files.put(
        name=f"samba-tool without passwords in argv ({HELPER})",
        src=str(FILES / "bimkit-samba-tool"),
        dest=HELPER,
        mode="755",
    )
    secret_file(name="AD Administrator password", secret="ad_admin_password", path=PASSWORD_FILE)

    if host.data.get("dc_role") == "primary" and not host.get_fact(SambaProvisioned):
        server.shell(
            name=f"Provision realm {data['realm'].upper()}", commands=[provision_command(data)]
        )
    elif host.data.get("dc_role") == "additional":
        host.noop("additional DC: joining the domain is not implemented yet")
        return

    files.put(
        name="Kerberos client (/etc/krb5.conf)",
        src=StringIO(krb5_conf(data)),
        dest="/etc/krb5.conf",
        mode="644",
    )
    files.put(
        name="DNS client asks the DCs (/etc/resolv.conf)",
        src=StringIO(resolv_conf(data)),
        dest="/etc/resolv.conf",
        mode="644",
    )
    for unit in FILE_SERVER_UNITS:
        systemd.service(
            name=f"{unit} off (an AD DC runs samba-ad-dc)",
            service=unit,
            running=False,
            enabled=False,
        )
    systemd.service(name="samba-ad-dc running", service="samba-ad-dc", running=True, enabled=True)
