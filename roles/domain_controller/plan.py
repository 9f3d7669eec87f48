"""What a domain controller gets, from its inventory data (pure)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from bimkit.templates import render

PACKAGES = ("samba-ad-dc", "krb5-user", "winbind", "smbclient", "ldb-tools", "bind9-host")
PASSWORD_FILE = "/etc/bimkit/ad_admin_password"
"""Root-only copy of the Administrator password on the DC (secret `ad_admin_password`)."""
HELPER = "/usr/local/sbin/bimkit-samba-tool"
"""Runs samba-tool with a password from a file, never in argv (files/domain_controller)."""
SAM_LDB = "/var/lib/samba/private/sam.ldb"
FILE_SERVER_UNITS = ("smbd", "nmbd", "winbind")
"""The member-server daemons; an AD DC runs `samba-ad-dc` instead."""


def forwarder_options(data: Mapping[str, Any]) -> list[str]:
    """smb.conf's `dns forwarder` for a new DC: where the DC sends names outside the realm."""
    forwarders = " ".join(data.get("dns_forwarders", []))
    return [f"--option=dns forwarder = {forwarders}"] if forwarders else []


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
        "--use-rfc2307",
    ]
    argv += forwarder_options(data)
    # The test makes a second provision over a live domain impossible, even if
    # the fact that guards this step were wrong.
    return (
        f"test ! -e {SAM_LDB} && systemctl stop {' '.join(FILE_SERVER_UNITS)} "
        f"&& rm -f /etc/samba/smb.conf && {shlex.join(argv)}"
    )


def wait_for_primary_command(data: Mapping[str, Any], seconds: int = 120) -> str:
    """Succeeds once the primary DC answers for the realm in DNS and LDAP (fails after `seconds`).

    Both: Samba's DNS server answers a few seconds before its LDAP server listens.
    """
    primary = data["primary_dc_address"]
    probe = (
        f"host -t SRV _ldap._tcp.{data['realm']} {primary} >/dev/null "
        f"&& (exec 3<>/dev/tcp/{primary}/389)"
    )
    return shlex.join(
        ["timeout", str(seconds), "bash", "-c", f"until {probe}; do sleep 2; done 2>/dev/null"]
    )


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


def resolv_conf(data: Mapping[str, Any]) -> str:
    """A DC asks itself first, then the other DCs."""
    others = [address for address in data["dns_servers"] if address != data["address"]]
    return render(
        "domain_controller/resolv.conf.j2",
        dns_domain=data["realm"],
        nameservers=["127.0.0.1", *others],
    )
