"""What `roles/workstation` wants on a staff workstation: AD sign-in through sssd (pure).

Joined with realmd/adcli into its site's OU, the computer account named after
the host; sign-in by AD account (password or Kerberos ticket), home created
at first sign-in, `sudo` for the admins' AD group (roles/base's sudoers names
it), time from the DCs (roles/base), banner and screen lock from the data.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from bimkit.directory import computer_ou
from roles.domain_controller.plan import krb5_conf
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.templates import render

PACKAGES = (
    "realmd",
    "adcli",
    "sssd",
    "sssd-ad",
    "sssd-tools",
    "libnss-sss",
    "libpam-sss",
    "krb5-user",
)
SSSD_CONF = "/etc/sssd/sssd.conf"
SSHD_CONF = "/etc/ssh/sshd_config.d/40-bimkit-workstation.conf"
"""Before the base role's 50-bimkit.conf: sshd takes the first value it reads."""
DCONF_PROFILE = "/etc/dconf/profile/user"
DCONF_SCREENSAVER = "/etc/dconf/db/local.d/00-bimkit-screensaver"
DCONF_LOCKS = "/etc/dconf/db/local.d/locks/00-bimkit-screensaver"
SSSD_CACHE_SECONDS = 600
"""How long sssd trusts a cached account before it asks a DC again."""
DCONF_UPDATE = "if command -v dconf >/dev/null; then dconf update; fi"
"""Compiles the settings where a desktop (dconf) is installed; a server-like host has none."""
MKHOMEDIR = "grep -q pam_mkhomedir /etc/pam.d/common-session || pam-auth-update --enable mkhomedir"
"""A home directory at first sign-in (Debian's PAM profile)."""


def computer_name(hostname: str) -> str:
    """The computer account's name: the host's, as NetBIOS allows (15 characters)."""
    return hostname.upper()[:15]


def join_command(hostname: str, data: Mapping[str, Any], password_file: str) -> str:
    """Join the realm into the site's OU, reading the password from `password_file`, which
    is removed whatever happens. A stale membership (a computer account deleted in AD) is
    left first, so the join starts clean."""
    realm = data["realm"]
    join = [
        "realm", "join", "--verbose", "--user=Administrator",
        f"--computer-ou={computer_ou(realm, data['site'])}",
        f"--computer-name={computer_name(hostname)}",
        "--membership-software=adcli", "--client-software=sssd", realm,
    ]  # fmt: skip
    quoted = shlex.quote(password_file)
    return (
        f"{{ realm leave >/dev/null 2>&1; rm -f /etc/krb5.keytab; "
        f"{shlex.join(join)} < {quoted}; status=$?; rm -f {quoted}; exit $status; }}"
    )


def banner(data: Mapping[str, Any]) -> str:
    """The sign-in banner; `{municipality}` in the data's text is the municipality's name
    (a plain replacement: any other brace in the text stays as it is)."""
    text = data["workstation"]["banner"].replace("{municipality}", data["municipality"])
    return render("workstation/issue.j2", banner=text)


def wanted(data: Mapping[str, Any]) -> list[State]:
    """Everything but the join: sssd, Kerberos, sign-in, banner, screen lock."""
    sssd = render("workstation/sssd.conf.j2", realm=data["realm"], site=data["site"],
                  cache_seconds=SSSD_CACHE_SECONDS)  # fmt: skip
    minutes = data["workstation"]["screen_lock_minutes"]
    return [
        ManagedFile("/etc/krb5.conf", krb5_conf(data)),
        ManagedFile(SSSD_CONF, sssd, mode="600", then=("systemctl restart sssd",)),
        ManagedFile("/etc/issue", banner(data)),
        ManagedFile("/etc/issue.net", banner(data)),
        ManagedFile(SSHD_CONF, render("workstation/sshd-workstation.conf.j2"),
                    then=("sshd -t", "systemctl reload ssh")),
        ManagedFile(DCONF_PROFILE, "user-db:user\nsystem-db:local\n"),
        ManagedDirectory("/etc/dconf/db/local.d/locks", mode="755"),
        ManagedFile(DCONF_SCREENSAVER, render("workstation/dconf-screensaver.j2", minutes=minutes),
                    then=(DCONF_UPDATE,)),
        ManagedFile(DCONF_LOCKS, render("workstation/dconf-locks.j2"), then=(DCONF_UPDATE,)),
        Service("sssd.service"),
    ]  # fmt: skip
