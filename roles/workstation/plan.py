"""What `roles/workstation` wants on a staff workstation: AD sign-in through sssd (pure).

Joined with adcli into its site's OU (realmd's settings kept for `realm list`
and admins), the computer account named after
the host; sign-in by AD account (password or Kerberos ticket), home created
at first sign-in, `sudo` for the admins' AD group (roles/base's sudoers names
it), time from the DCs (roles/base), banner and screen lock from the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bimkit.directory import computer_name, computer_ou
from roles.domain_controller.plan import krb5_conf
from roles.file_server.plan import IDMAP_DOMAIN
from roles.managed import Absent, ManagedDirectory, ManagedFile, ManagedLink, Service, State
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
    "smbclient",  # the file server's shares with the user's Kerberos ticket
    "libpam-mount",  # the shares mounted at sign-in
    "cifs-utils",
)
REALMD_CONF = "/etc/realmd.conf"
SSSD_CONF = "/etc/sssd/sssd.conf"
SSHD_CONF = "/etc/ssh/sshd_config.d/40-bimkit-workstation.conf"
"""Before the base role's 50-bimkit.conf: sshd takes the first value it reads."""
ADMIN_KEYS = "/etc/ssh/bimkit-admin-keys"
"""`username key...` per line: the admins' SSH keys from the data (people[].ssh_keys)."""
ADMIN_KEYS_COMMAND = "/usr/local/sbin/bimkit-admin-keys"
PAM_MOUNT_CONF = "/etc/security/pam_mount.conf.xml"
MOUNT_OPTIONS = "sec=krb5,cruid=%(USERUID),uid=%(USERUID),gid=%(USERGID),vers=3.1.1,nosuid,nodev"
"""CIFS with the person's own ticket (cifs.upcall finds it by their uid), files shown as
theirs; the server's ACLs decide what they may do."""
DCONF_PROFILE = "/etc/dconf/profile/user"
DCONF_SCREENSAVER = "/etc/dconf/db/local.d/00-bimkit-screensaver"
DCONF_LOCKS = "/etc/dconf/db/local.d/locks/00-bimkit-screensaver"
RESTART_SSSD = (
    "systemctl daemon-reload",
    # A responder listed in sssd.conf (as the join's first one did) failed its socket:
    # cleared, the sockets start again with sssd, which wants them.
    "systemctl reset-failed sssd-nss.socket sssd-pam.socket 2>/dev/null || true",
    "systemctl stop sssd",
    # The cache keeps the ID ranges it was started with, and sssd refuses to start when
    # they differ from the file's: it is rebuilt from the DCs.
    "rm -f /var/lib/sss/db/cache_* /var/lib/sss/db/timestamps_*",
    "systemctl start sssd",
)
PAC_SOCKET = "/etc/systemd/system/sssd-pac.socket"
"""Masked: sssd starts the PAC responder itself for an AD domain, and the socket then fails."""
SSSD_CACHE_SECONDS = 600
"""How long sssd trusts a cached account before it asks a DC again."""
DCONF_UPDATE = "if command -v dconf >/dev/null; then dconf update; fi"
"""Compiles the settings where a desktop (dconf) is installed; a server-like host has none."""
MKHOMEDIR = "grep -q pam_mkhomedir /etc/pam.d/common-session || pam-auth-update --enable mkhomedir"
"""A home directory at first sign-in (Debian's PAM profile)."""


def join_argv(hostname: str, data: Mapping[str, Any]) -> list[str]:
    """adcli's join as the computer account itself, its one-time password on stdin
    (roles/join readies the account on the primary DC first)."""
    realm = data["realm"]
    return [
        "adcli", "join", "--verbose", f"--domain={realm}", "--login-type=computer",
        "--stdin-password", f"--domain-controller={data['join_dc']}",
        f"--domain-ou={computer_ou(realm, data['site'])}",
        f"--computer-name={computer_name(hostname)}", "--os-name=Debian GNU/Linux",
    ]  # fmt: skip


def before_join(data: Mapping[str, Any]) -> list[State]:
    """realmd's own settings and Kerberos, which the join reads."""
    return [
        ManagedFile(REALMD_CONF, render("workstation/realmd.conf.j2", realm=data["realm"])),
        ManagedFile("/etc/krb5.conf", krb5_conf(data)),
    ]


def banner(data: Mapping[str, Any]) -> str:
    """The sign-in banner; `{municipality}` in the data's text is the municipality's name
    (a plain replacement: any other brace in the text stays as it is)."""
    text = data["workstation"]["banner"].replace("{municipality}", data["municipality"])
    # agetty reads `\` escapes in /etc/issue (`\n` the host's name, ...): none from the data.
    return render("workstation/issue.j2", banner=text.replace("\\", ""))


def wanted(data: Mapping[str, Any]) -> list[State]:
    """After the join: sssd, sign-in, banner, screen lock."""
    low, high = IDMAP_DOMAIN
    policy = data["workstation"]
    sssd = render("workstation/sssd.conf.j2", realm=data["realm"], site=data["site"],
                  cache_seconds=SSSD_CACHE_SECONDS, idmap_min=low, idmap_size=high - low + 1,
                  groups=policy["sign_in_groups"], access_filter=policy["access_filter"],
                  offline_days=policy["offline_days"])  # fmt: skip
    keys = "".join(f"{user} {key}\n" for user, found in sorted(policy["admin_keys"].items())
                   for key in found)  # fmt: skip
    minutes = data["workstation"]["screen_lock_minutes"]
    return [
        # 0640 root:root: sssd's unit adds g+r at every start.
        ManagedLink(PAC_SOCKET, "/dev/null", then=RESTART_SSSD),
        ManagedFile(SSSD_CONF, sssd, mode="640", then=RESTART_SSSD),
        ManagedFile("/etc/issue", banner(data)),
        ManagedFile("/etc/issue.net", banner(data)),
        ManagedFile(ADMIN_KEYS, keys),
        ManagedFile(ADMIN_KEYS_COMMAND, render("workstation/bimkit-admin-keys.j2",
                                               keys_file=ADMIN_KEYS), mode="755"),
        ManagedFile(SSHD_CONF, render("workstation/sshd-workstation.conf.j2",
                                      keys_file=ADMIN_KEYS, keys_command=ADMIN_KEYS_COMMAND),
                    then=("sshd -t", "systemctl reload ssh")),
        ManagedFile(DCONF_PROFILE, "user-db:user\nsystem-db:local\n"),
        ManagedDirectory("/etc/dconf/db/local.d/locks", mode="755"),
        ManagedFile(DCONF_SCREENSAVER, render("workstation/dconf-screensaver.j2", minutes=minutes),
                    then=(DCONF_UPDATE,)),
        ManagedFile(DCONF_LOCKS, render("workstation/dconf-locks.j2"), then=(DCONF_UPDATE,)),
        *share_mounts(data),
        Service("sssd.service"),
    ]  # fmt: skip


def share_mounts(data: Mapping[str, Any]) -> list[State]:
    """pam_mount's volumes: the person's home folder and each share of a group they are in,
    from the estate's central file server (none when the estate has no file server)."""
    mounts = data["workstation"].get("mounts")
    if not mounts:
        return [Absent(PAM_MOUNT_CONF)]
    text = render("workstation/pam_mount.conf.xml.j2", server=mounts["server"],
                  shares=mounts["shares"], options=MOUNT_OPTIONS,
                  uids="{}-{}".format(*IDMAP_DOMAIN))  # fmt: skip
    return [ManagedFile(PAM_MOUNT_CONF, text)]
