"""roles/domain_controller, Samba backend: Samba AD domain controllers on Debian.

The primary DC provisions the realm once (a live domain is never provisioned
again); an additional DC joins it and replicates. Both run samba-ad-dc and
serve DNS. The primary applies directory/ (planned by `bimkit.directory`);
the other DCs get it by replication.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, server

from bimkit.ad_sites import answers_for, topology_from_state
from bimkit.directory import directory_from_state
from roles.domain_controller import operations
from roles.domain_controller.facts import SambaProvisioned
from roles.domain_controller.plan import (
    AD_BACKUP_HOOK,
    AD_SITES_HELPER,
    CHRONY_DC_CONF,
    COMPUTER_ACCOUNT_HELPER,
    DC_CHECK,
    DIRECTORY_HELPER,
    FILE_SERVER_UNITS,
    HELPER,
    IDMAP,
    IDMAP_EXPORT,
    NTP_SIGND_SOCKET,
    PACKAGES,
    PASSWORD_FILE,
    SAMBA_STOP_DROP_IN,
    SAMBA_STOP_SECONDS,
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
    samba_stop_drop_in,
    sysvol_sync_units,
)
from roles.managed import ManagedDirectory, ManagedFile, ManagedLink, Service
from roles.operations import converge, once, secret_value
from roles.units import DAEMON_RELOAD, unit_files

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
    converge(
        name="smbd, nmbd, winbind masked (an AD DC runs samba-ad-dc); samba-ad-dc stops in "
        f"{SAMBA_STOP_SECONDS} s at most",
        wanted=[
            *(
                ManagedLink(f"/etc/systemd/system/{unit}.service", "/dev/null",
                            then=(DAEMON_RELOAD,))
                for unit in FILE_SERVER_UNITS
            ),
            ManagedDirectory(posixpath.dirname(SAMBA_STOP_DROP_IN), mode="755"),
            ManagedFile(SAMBA_STOP_DROP_IN, samba_stop_drop_in(), then=(DAEMON_RELOAD,)),
        ],
    )  # fmt: skip
    apt.packages(name="Samba AD DC packages", packages=list(PACKAGES))
    # Before a join the realm must resolve (roles/base points resolv.conf at the DCs)
    # and Kerberos must know it.
    converge(
        name="bimkit's DC helpers, the Administrator password, /etc/krb5.conf",
        wanted=[
            *(
                ManagedFile(helper, Path(source_of(helper)).read_text(), mode="755")
                for helper in (HELPER, DC_CHECK, DIRECTORY_HELPER, AD_SITES_HELPER, AD_BACKUP_HOOK,
                               COMPUTER_ACCOUNT_HELPER)
            ),
            ManagedDirectory(posixpath.dirname(PASSWORD_FILE), mode="700"),
            ManagedFile(PASSWORD_FILE, secret_value("ad_admin_password") + "\n", mode="600",
                        private=True),
            ManagedFile("/etc/krb5.conf", krb5_conf(data)),
        ],
    )  # fmt: skip

    provisioned = host.get_fact(SambaProvisioned)
    realm = data["realm"].upper()
    joining = data["dc_role"] == "additional" and not provisioned
    if data["dc_role"] == "primary":
        if not provisioned:
            server.shell(name=f"Provision realm {realm}", commands=[provision_command(data)])
        converge(name="samba-ad-dc running (primary)", wanted=[Service("samba-ad-dc.service")])
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
    topology = topology_from_state(data["ad_sites"])
    if data["dc_role"] == "primary":
        # Before any join: a DC joins straight into its own site.
        operations.ad_sites(
            name="AD sites, subnets and site links from the estate; each DC in its site",
            desired=topology,
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
        converge(name="samba-ad-dc running (additional)", wanted=[Service("samba-ad-dc.service")])
    answered = answers_for(topology, host.name)
    operations.site_records(
        name=f"DC locator records of {', '.join(answered)} (_ldap._tcp.<site>._sites)",
        realm=data["realm"],
        hostname=host.name,
        sites=answered,
    )
    operations.dns_forwarders(
        name=f"DNS forwarders from estate.yaml ({SMB_CONF})", line=dns_forwarder_line(data)
    )
    # chrony (roles/base) serves the estate's time from the DCs, signed for domain members.
    restart_chrony = ("systemctl restart chrony",)
    converge(
        name=f"chrony serves time, signed for domain members ({CHRONY_DC_CONF})",
        wanted=[
            ManagedDirectory(NTP_SIGND_SOCKET, mode="750", group="_chrony", then=restart_chrony),
            ManagedFile(CHRONY_DC_CONF, chrony_dc_conf(data), then=restart_chrony),
        ],
    )

    # SYSVOL: Samba does not replicate it. The primary serves it read-only to
    # the other DCs, which pull it on a timer; they take its idmap once first.
    # These lines come after everything above, so the primary serves before
    # any DC pulls (see "Primary DC serves the realm").
    if data["dc_role"] == "primary":
        once(
            name=f"A copy of idmap.ldb for the other DCs ({IDMAP_EXPORT})",
            marker=f"{IDMAP_EXPORT}/.bimkit-exported",
            commands=idmap_export_commands(),
        )
        converge(
            name="rsync serves SYSVOL to the other DCs (/etc/rsyncd.conf)",
            wanted=[
                ManagedFile("/etc/rsyncd.conf", rsyncd_conf(data),
                            then=("systemctl restart rsync",)),
                Service("rsync.service"),
            ],
        )  # fmt: skip
    if data["dc_role"] == "additional":
        converge(
            name=f"SYSVOL pull script and units ({SYSVOL_SYNC})",
            wanted=[
                ManagedFile(SYSVOL_SYNC, Path(source_of(SYSVOL_SYNC)).read_text(), mode="755"),
                *unit_files(sysvol_sync_units(data)),
            ],
        )
        once(
            name=f"idmap taken from the primary, SYSVOL pulled and its ACLs reset ({IDMAP})",
            marker="/var/lib/bimkit/idmap-imported",
            commands=idmap_import_commands(data),
        )
        converge(
            name=f"SYSVOL pulled from the primary every {SYSVOL_SYNC_MINUTES} minutes",
            wanted=[Service("bimkit-sysvol-sync.timer")],
        )
