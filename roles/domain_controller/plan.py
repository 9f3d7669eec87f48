"""What a domain controller gets, from its inventory data (pure)."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping
from typing import Any

from roles.templates import render

PACKAGES = (
    "samba-ad-dc",
    "krb5-user",
    "winbind",
    "smbclient",
    "ldb-tools",
    "bind9-host",
    # nsupdate: samba_dnsupdate registers the DC's own and its covered sites' records with it
    # (without it Samba's periodic DNS self-registration fails too).
    "bind9-dnsutils",
    "rsync",  # SYSVOL from the primary to the other DCs
    "tdb-tools",  # tdbbackup: a consistent copy of idmap.ldb
)
PASSWORD_FILE = "/etc/bimkit/ad_admin_password"
"""Root-only copy of the Administrator password on the DC (secret `ad_admin_password`)."""
HELPER = "/usr/local/sbin/bimkit-samba-tool"
"""Runs samba-tool with a password from a file, never in argv (files/domain_controller)."""
DIRECTORY_HELPER = "/usr/local/sbin/bimkit-directory"
"""Reads and applies directory changes on the primary DC (files/domain_controller)."""
AD_SITES_HELPER = "/usr/local/sbin/bimkit-ad-sites"
"""Reads and applies AD sites, subnets, site links and DC placement on the primary DC."""
COMPUTER_ACCOUNT_HELPER = "/usr/local/sbin/bimkit-computer-account"
"""Readies a member's computer account with a one-time password (roles/join.py)."""
AD_BACKUP_HOOK = "/usr/local/sbin/bimkit-ad-backup"
"""Pre-hook of the `active-directory` backup: samba-tool domain backup plus a manifest."""
DC_CHECK = "/usr/local/sbin/bimkit-dc-check"
"""Checks that a DC answers, serves the realm and takes the password (files/domain_controller)."""
HANDOVER_FILE = "/var/lib/bimkit/handover/initial-passwords.tsv"
"""New accounts' initial passwords, root-only on the primary DC, for the admins to hand over."""
NTP_SIGND_SOCKET = "/var/lib/samba/ntp_signd"
"""Where samba-ad-dc signs NTP replies for domain members (chrony's ntpsigndsocket)."""
CHRONY_DC_CONF = "/etc/chrony/conf.d/bimkit-dc.conf"
SMB_CONF = "/etc/samba/smb.conf"
FORWARDER_PATTERN = r"^\s*dns forwarder\s*=.*$"
SYSVOL = "/var/lib/samba/sysvol"
IDMAP = "/var/lib/samba/private/idmap.ldb"
IDMAP_EXPORT = "/var/lib/bimkit/idmap"
"""The primary's copy of idmap.ldb that the other DCs take once (rsync module `idmap`)."""
SYSVOL_SYNC = "/usr/local/sbin/bimkit-sysvol-sync"
SYSVOL_SYNC_MINUTES = 5
SAM_LDB = "/var/lib/samba/private/sam.ldb"
FILE_SERVER_UNITS = ("smbd", "nmbd", "winbind")
"""The member-server daemons; an AD DC runs `samba-ad-dc` instead."""


def forwarder_options(data: Mapping[str, Any]) -> list[str]:
    """smb.conf's `dns forwarder` for a new DC: where the DC sends names outside the realm."""
    line = dns_forwarder_line(data)
    return [f"--option={line.strip()}"] if line else []


def provision_command(data: Mapping[str, Any]) -> str:
    """Provision the realm on the primary DC; refuses when a domain already exists."""
    argv = [
        HELPER,
        PASSWORD_FILE,
        "--adminpass",
        "domain",
        "provision",
        f"--realm={data['realm'].upper()}",
        f"--domain={data['netbios_domain']}",
        "--server-role=dc",
        "--dns-backend=SAMBA_INTERNAL",
        f"--host-ip={data['address']}",
        f"--site={data['site']}",  # the AD site of the DC's building (bimkit.ad_sites)
        "--use-rfc2307",
    ]
    argv += forwarder_options(data)
    # The test makes a second provision over a live domain impossible, even if
    # the fact that guards this step were wrong.
    return (
        f"test ! -e {SAM_LDB} && systemctl stop {' '.join(FILE_SERVER_UNITS)} "
        f"&& rm -f /etc/samba/smb.conf && {shlex.join(argv)}"
    )


def dc_check_command(address: str, name: str, realm: str, seconds: int = 120) -> str:
    """Succeeds once the DC at `address` answers, serves `realm` and takes the Administrator
    password; else fails with one line naming the DC and the cause (files/domain_controller)."""
    return shlex.join([DC_CHECK, PASSWORD_FILE, address, name, realm, str(seconds)])


def primary_check_command(data: Mapping[str, Any]) -> str:
    """Before a join: the primary DC answers for the estate's realm and takes the password."""
    return dc_check_command(data["primary_dc_address"], data["primary_dc"], data["realm"])


def join_command(data: Mapping[str, Any]) -> str:
    """Join the realm as an additional DC, replicating from the primary.

    A failed join leaves a half-made database that would look provisioned; it
    is removed so the next run tries again from scratch.
    """
    argv = [
        HELPER,
        PASSWORD_FILE,
        "PASSWD",
        "domain",
        "join",
        data["realm"],
        "DC",
        "-U",
        "Administrator",
        f"--server={data['primary_dc_address']}",
        f"--site={data['site']}",  # the AD site of the DC's building (bimkit.ad_sites)
        "--dns-backend=SAMBA_INTERNAL",
    ]
    argv += forwarder_options(data)
    rollback = "rm -rf /var/lib/samba/private/* /etc/samba/smb.conf"
    return (
        f"test ! -e {SAM_LDB} && rm -f /etc/samba/smb.conf "
        f"&& {{ {shlex.join(argv)} || {{ status=$?; {rollback}; exit $status; }}; }}"
    )


def krb5_conf(data: Mapping[str, Any]) -> str:
    return render(
        "domain_controller/krb5.conf.j2", realm=data["realm"].upper(), dns_domain=data["realm"]
    )


PASSWORD_SETTINGS = {
    # policy field -> (samba-tool option, label in `passwordsettings show`)
    "complexity": ("--complexity", "Password complexity"),
    "history_length": ("--history-length", "Password history length"),
    "min_length": ("--min-pwd-length", "Minimum password length"),
    "min_age_days": ("--min-pwd-age", "Minimum password age (days)"),
    "max_age_days": ("--max-pwd-age", "Maximum password age (days)"),
    "lockout_minutes": ("--account-lockout-duration", "Account lockout duration (mins)"),
    "lockout_threshold": ("--account-lockout-threshold", "Account lockout threshold (attempts)"),
    "lockout_window_minutes": (
        "--reset-account-lockout-after",
        "Reset account lockout after (mins)",
    ),
}
"""How the estate's password_policy maps onto `samba-tool domain passwordsettings`."""


NEVER = -0x8000000000000000
TICKS_PER_DAY = 10**7 * 60 * 60 * 24
TICKS_PER_MINUTE = 10**7 * 60


def shown_password_settings(stored: Mapping[str, int]) -> dict[str, str]:
    """The domain object's attributes (ages in negative 100 ns ticks) labelled and rounded
    as `samba-tool domain passwordsettings show` shows them."""

    def days(ticks: int) -> str:
        return "0" if ticks == NEVER else str(abs(ticks) // TICKS_PER_DAY)

    return {
        "Password complexity": "on" if stored["pwdProperties"] & 1 else "off",
        "Password history length": str(stored["pwdHistoryLength"]),
        "Minimum password length": str(stored["minPwdLength"]),
        "Minimum password age (days)": days(stored["minPwdAge"]),
        "Maximum password age (days)": days(stored["maxPwdAge"]),
        "Account lockout duration (mins)": str(abs(stored["lockoutDuration"]) // TICKS_PER_MINUTE),
        "Account lockout threshold (attempts)": str(stored["lockoutThreshold"]),
        "Reset account lockout after (mins)": str(
            abs(stored["lockOutObservationWindow"]) // TICKS_PER_MINUTE
        ),
    }


def password_settings_options(
    policy: Mapping[str, Any], shown: Mapping[str, str] | None
) -> list[str]:
    """The `passwordsettings set` options that make the domain follow `policy`.

    `shown` is what `passwordsettings show` printed (label -> value), None
    for a domain not provisioned yet: then every option is set.
    """
    options = []
    for field, (option, label) in PASSWORD_SETTINGS.items():
        value = policy[field]
        wanted = ("on" if value else "off") if isinstance(value, bool) else str(value)
        if shown is None or shown.get(label) != wanted:
            options.append(f"{option}={wanted}")
    return options


def password_settings_command(options: list[str]) -> str:
    """One command for every option: samba-tool checks the lockout window against the
    lockout duration, so setting them one by one could be refused halfway."""
    return shlex.join(["samba-tool", "domain", "passwordsettings", "set", *options])


def realm_mismatch_command(host: str, served: str, realm: str) -> str:
    """Fails with the reason: bimkit never re-provisions a live domain to change its realm."""
    message = (
        f"{host}: Samba AD here serves realm {served.lower()} ({SMB_CONF}), but estate.yaml says "
        f"{realm.lower()}; bimkit never re-provisions a live domain. Fix estate.yaml, or "
        "migrate the domain by hand."
    )
    return f"echo {shlex.quote(message)} >&2; exit 1"


def zone_create_command(zone: str) -> str:
    """Create a DNS zone over RPC, authenticated as Administrator (password from its file)."""
    return shlex.join(
        [
            HELPER,
            PASSWORD_FILE,
            "PASSWD",
            "dns",
            "zonecreate",
            "127.0.0.1",
            zone,
            "-U",
            "Administrator",
        ]
    )


def chrony_dc_conf(data: Mapping[str, Any]) -> str:
    return render(
        "domain_controller/chrony-dc.conf.j2",
        ntp_clients=data["ntp_clients"],
        signd_socket=NTP_SIGND_SOCKET,
    )


SAMBA_STOP_DROP_IN = "/etc/systemd/system/samba-ad-dc.service.d/bimkit-stop.conf"
SAMBA_STOP_SECONDS = 20
"""After this long a stopping samba-ad-dc is killed (systemd's default is 90 s)."""


def samba_stop_drop_in() -> str:
    return render("domain_controller/samba-ad-dc-stop.conf.j2", stop_seconds=SAMBA_STOP_SECONDS)


def dns_forwarder_line(data: Mapping[str, Any]) -> str | None:
    """smb.conf's `dns forwarder` line for the data's forwarders (None: no forwarders)."""
    forwarders = " ".join(data.get("dns_forwarders", []))
    return f"\tdns forwarder = {forwarders}" if forwarders else None


def forwarders_command(line: str | None) -> str:
    """Drop smb.conf's `dns forwarder` lines and put `line` (if any) under `[global]`.

    One sed script, quoted as a whole: the pattern holds spaces, `$` and backslashes.
    """
    script = f"/{FORWARDER_PATTERN}/d"
    if line:
        script += f"\n/^\\[global\\]/a\\\n{line}"
    return shlex.join(["sed", "-i", script, SMB_CONF])


def other_dcs(data: Mapping[str, Any]) -> list[str]:
    """The other DCs' addresses (every DC serves DNS, so they are the DNS servers)."""
    return [address for address in data["dns_servers"] if address != data["address"]]


def rsyncd_conf(data: Mapping[str, Any]) -> str:
    return render(
        "domain_controller/rsyncd.conf.j2",
        readers=other_dcs(data),
        sysvol=SYSVOL,
        idmap_export=IDMAP_EXPORT,
        realm=data["realm"],
    )


def sysvol_sync_units(data: Mapping[str, Any]) -> dict[str, str]:
    """unit file name -> content: the additional DC's pull of SYSVOL, every few minutes."""
    context = {
        "primary": data["primary_dc"],
        "primary_address": data["primary_dc_address"],
        "script": SYSVOL_SYNC,
        "minutes": SYSVOL_SYNC_MINUTES,
    }
    return {
        f"bimkit-sysvol-sync.{kind}": render(
            f"domain_controller/bimkit-sysvol-sync.{kind}.j2", **context
        )
        for kind in ("service", "timer")
    }


def idmap_export_commands() -> list[str]:
    """A consistent copy of the primary's idmap.ldb (tdbbackup locks it), for the other DCs."""
    return [
        f"install -d -m 755 {IDMAP_EXPORT}",
        f"tdbbackup -s .bimkit {IDMAP}",
        f"mv {IDMAP}.bimkit {IDMAP_EXPORT}/idmap.ldb",
    ]


def idmap_import_commands(data: Mapping[str, Any]) -> list[str]:
    """Take the primary's idmap once after the join, so SYSVOL's ACLs mean the same IDs here.

    samba-ad-dc is stopped for the swap (SAMBA_STOP_DROP_IN bounds how long that
    takes) and started again even if a step fails.
    """
    fetched = "/var/lib/bimkit/idmap.ldb.primary"
    swap = (
        "trap 'systemctl start samba-ad-dc' EXIT; systemctl stop samba-ad-dc "
        f"&& install -m 600 {fetched} {IDMAP} && net cache flush"
    )
    return [
        f"install -d -m 700 {posixpath.dirname(fetched)}",
        f"rsync rsync://{data['primary_dc_address']}/idmap/idmap.ldb {fetched}",
        shlex.join(["bash", "-c", swap]),
        f"rm -f {fetched}",
        f"{SYSVOL_SYNC} {data['primary_dc_address']}",
        "samba-tool ntacl sysvolreset",
    ]


def site_records_command(realm: str, sites: list[str], server: str = "127.0.0.1") -> str:
    """Each site's `_ldap._tcp.<site>._sites` records as `server` answers them (a DC asks
    itself; "" asks the host's own resolvers, as its clients do), a block per site."""
    return "; ".join(
        f"echo {shlex.quote('== ' + site)}; "
        f"host -t SRV {shlex.quote(f'_ldap._tcp.{site}._sites.{realm}')} {server} || true"
        for site in sites
    )


def site_records(output: list[str]) -> dict[str, list[str]]:
    """site -> the DCs (host names, lower case) its records name."""
    found: dict[str, list[str]] = {}
    site = ""
    for line in output:
        if line.startswith("== "):
            site = line[3:].strip()
            found[site] = []
        elif " has SRV record " in line and site:
            found[site].append(line.split()[-1].rstrip(".").split(".")[0].lower())
    return found


def register_site_records_command(realm: str, hostname: str, sites: list[str]) -> str:
    """samba_dnsupdate registers this DC's records for its site and the sites it covers
    (Samba's automatic site coverage); then each must name it, or the step fails naming
    the site."""

    def check(site: str) -> str:
        record = f"_ldap._tcp.{site}._sites.{realm}"
        missing = f"{hostname}: no {record} record names it after samba_dnsupdate"
        return (
            f"{{ host -t SRV {shlex.quote(record)} 127.0.0.1 | grep -qi "
            f"{shlex.quote(f' {hostname}.')} || {{ echo {shlex.quote(missing)}; false; }}; }}"
        )

    checks = " && ".join(check(site) for site in sites)
    return f"samba_dnsupdate && {checks}"
