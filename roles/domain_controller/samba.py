"""roles/domain_controller, Samba backend: Samba AD domain controllers on Debian.

The primary DC provisions the realm once (a live domain is never provisioned
again); an additional DC joins it and replicates. Both run samba-ad-dc and
serve DNS. The primary applies directory/ (planned by `bimkit.directory`);
the other DCs get it by replication.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, server, systemd

from bimkit.directory import directory_from_state
from roles.domain_controller import operations
from roles.domain_controller.facts import SambaProvisioned
from roles.domain_controller.plan import (
    AD_BACKUP_HOOK,
    CHRONY_DC_CONF,
    DC_CHECK,
    DIRECTORY_HELPER,
    FILE_SERVER_UNITS,
    HELPER,
    IDMAP,
    IDMAP_EXPORT,
    NTP_SIGND_SOCKET,
    PACKAGES,
    PASSWORD_FILE,
    SMB_CONF,
    SYSVOL_SYNC,
    SYSVOL_SYNC_MINUTES,
    chrony_dc_conf,
    dns_forwarder_line,
    idmap_export_commands,
    idmap_import_commands,
    join_command,
    krb5_conf,
    primary_check_command,
    provision_command,
    rsyncd_conf,
    sysvol_sync_units,
)
from roles.operations import once, secret_file
from roles.units import unit_files

FILES = Path(__file__).resolve().parent / "files"


def source_of(helper: str) -> str:
    """The role's file of the command `helper` (bimkit-dc-check: files/bimkit_dc_check.py)."""
    return str(FILES / (Path(helper).name.replace("-", "_") + ".py"))


@deploy("bimkit domain controller: realm check")
def check_realm() -> None:
    """Run before any other role: a DC whose domain is not the estate's realm is left
    untouched, and directory data that would be refused stops the deploy."""
    operations.realm_matches(
        name=f"Samba AD serves realm {host.data.realm.upper()}", realm=host.data.realm
    )
    if host.data.dc_role == "primary":
        operations.directory_safe(
            name="directory/ can be applied (recorded usernames, no account changes hands)",
            desired=directory_from_state(host.data.directory),
            realm=host.data.realm,
        )


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
    for helper in (HELPER, DC_CHECK, DIRECTORY_HELPER, AD_BACKUP_HOOK):
        files.put(
            name=f"bimkit's helper {helper}",
            src=source_of(helper),
            dest=helper,
            mode="755",
        )
    secret_file(name="AD Administrator password", secret="ad_admin_password", path=PASSWORD_FILE)
    # Before a join the realm must resolve (roles/base points resolv.conf at the DCs)
    # and Kerberos must know it.
    files.put(
        name="Kerberos client (/etc/krb5.conf)",
        src=StringIO(krb5_conf(data)),
        dest="/etc/krb5.conf",
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
        # Only on the primary: the other DCs get these by replication.
        operations.password_policy(
            name="Password and lockout policy from estate.yaml", policy=data["account_policy"]
        )
        operations.reverse_zones(
            name="Reverse DNS zones for every site subnet",
            zones=data["reverse_zones"],
            realm=data["realm"],
        )
        operations.directory(
            name="Directory from directory/ (OUs, groups, accounts)",
            desired=directory_from_state(data["directory"]),
            realm=data["realm"],
        )
    # pyinfra orders operations per host and merges the hosts' sequences. An
    # operation every DC shares puts the primary's start before any join.
    server.shell(
        name="Primary DC serves the realm",
        commands=[primary_check_command(data)],
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
    operations.dns_forwarders(
        name=f"DNS forwarders from estate.yaml ({SMB_CONF})", line=dns_forwarder_line(data)
    )
    # chrony (roles/base) serves the estate's time from the DCs, signed for domain members.
    signd = files.directory(
        name=f"chrony may use Samba's NTP signing socket ({NTP_SIGND_SOCKET})",
        path=NTP_SIGND_SOCKET,
        group="_chrony",
        mode="750",
    )
    chrony_conf = files.put(
        name=f"chrony serves time, signed for domain members ({CHRONY_DC_CONF})",
        src=StringIO(chrony_dc_conf(data)),
        dest=CHRONY_DC_CONF,
        mode="644",
    )
    systemd.service(
        name="chrony restarted for the DC settings",
        service="chrony",
        restarted=True,
        _if=lambda: chrony_conf.did_change() or signd.did_change(),
    )

    # SYSVOL: Samba does not replicate it. The primary serves it read-only to
    # the other DCs, which pull it on a timer; they take its idmap once first.
    # These lines come after everything above, so the primary serves before
    # any DC pulls (see "Primary DC serves the realm").
    if data["dc_role"] == "primary":
        rsyncd = files.put(
            name="rsync serves SYSVOL to the other DCs (/etc/rsyncd.conf)",
            src=StringIO(rsyncd_conf(data)),
            dest="/etc/rsyncd.conf",
            mode="644",
        )
        once(
            name=f"A copy of idmap.ldb for the other DCs ({IDMAP_EXPORT})",
            marker=f"{IDMAP_EXPORT}/.bimkit-exported",
            commands=idmap_export_commands(),
        )
        systemd.service(
            name="rsync daemon running",
            service="rsync",
            running=True,
            enabled=True,
            restarted=rsyncd.will_change,
        )
    if data["dc_role"] == "additional":
        files.put(
            name=f"SYSVOL pull script ({SYSVOL_SYNC})",
            src=str(FILES / Path(SYSVOL_SYNC).name),
            dest=SYSVOL_SYNC,
            mode="755",
        )
        unit_files(sysvol_sync_units(data), "SYSVOL pull units")
        once(
            name=f"idmap taken from the primary, SYSVOL pulled and its ACLs reset ({IDMAP})",
            marker="/var/lib/bimkit/idmap-imported",
            commands=idmap_import_commands(data),
        )
        systemd.service(
            name=f"SYSVOL pulled from the primary every {SYSVOL_SYNC_MINUTES} minutes",
            service="bimkit-sysvol-sync.timer",
            running=True,
            enabled=True,
        )
