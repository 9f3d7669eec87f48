"""roles/domain_controller: Samba AD domain controllers.

The primary DC provisions the realm once (a live domain is never provisioned
again); an additional DC joins it and replicates. Both run samba-ad-dc and
serve DNS. Directory sync (`directory.py` plans it), SYSVOL sync and health
checks come next.
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
    join_command,
    krb5_conf,
    provision_command,
    resolv_conf,
    wait_for_primary_command,
)
from roles.operations import secret_file

FILES = Path(__file__).resolve().parents[2] / "files" / "domain_controller"


@deploy("bimkit domain controller")
def apply() -> None:
    data = host.data.dict()
    # Masked before the packages arrive, so they never start: on a DC, samba-ad-dc
    # runs its own winbind, and the member daemons would only fail.
    masks = [
        files.link(
            name=f"{unit} masked (an AD DC runs samba-ad-dc)",
            path=f"/etc/systemd/system/{unit}.service",
            target="/dev/null",
        )
        for unit in FILE_SERVER_UNITS
    ]
    systemd.daemon_reload(
        name="systemd sees the masks", _if=lambda: any(mask.did_change() for mask in masks)
    )
    apt.packages(name="Samba AD DC packages", packages=list(PACKAGES))
    files.put(
        name=f"samba-tool without passwords in argv ({HELPER})",
        src=str(FILES / "bimkit-samba-tool"),
        dest=HELPER,
        mode="755",
    )
    secret_file(name="AD Administrator password", secret="ad_admin_password", path=PASSWORD_FILE)
    # Before a join the realm must resolve (through the primary) and Kerberos must know it.
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

    provisioned = host.get_fact(SambaProvisioned)
    realm = data["realm"].upper()
    joining = data["dc_role"] == "additional" and not provisioned
    if data["dc_role"] == "primary":
        if not provisioned:
            server.shell(name=f"Provision realm {realm}", commands=[provision_command(data)])
        systemd.service(
            name="samba-ad-dc running (primary)", service="samba-ad-dc", running=True, enabled=True
        )
    # pyinfra orders operations per host and merges the hosts' sequences. An
    # operation every DC shares puts the primary's start before any join.
    server.shell(
        name="Primary DC serves the realm",
        commands=[wait_for_primary_command(data)],
        _if=lambda: joining,
    )
    if joining:
        server.shell(name=f"Join realm {realm} as an additional DC", commands=[join_command(data)])
    if data["dc_role"] == "additional":
        systemd.service(
            name="samba-ad-dc running (additional)",
            service="samba-ad-dc",
            running=True,
            enabled=True,
        )
