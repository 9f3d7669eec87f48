"""roles/base: what every Linux host of the estate has."""

from __future__ import annotations

import re
from typing import Any

HostData = tuple[str, dict[str, Any]]


def test_hostname_and_estate_hosts(host: Any, estate_host: HostData) -> None:
    name, data = estate_host
    hosts = host.file("/etc/hosts").content_string
    assert f"\n{data['address']}\t{name}.{data['realm']} {name}\n" in hosts
    for peer in data["peers"]:
        if peer["name"] != name:
            assert f"{peer['address']}\t{peer['name']}.{data['realm']} {peer['name']}" in hosts


def test_timezone(host: Any, estate_host: HostData) -> None:
    _, data = estate_host
    assert host.file("/etc/localtime").linked_to == f"/usr/share/zoneinfo/{data['timezone']}"


def test_chrony_runs_and_follows_the_dcs(host: Any, estate_host: HostData) -> None:
    _, data = estate_host
    assert host.service("chrony").is_running
    sources = host.check_output("chronyc -n sources")
    dcs = [address for address in data["ntp_servers"] if address != data["address"]]
    assert dcs and all(dc in sources for dc in dcs)


def test_apt_proxy_is_configured_as_the_estate_says(host: Any, estate_host: HostData) -> None:
    _, data = estate_host
    proxy = host.file("/etc/apt/apt.conf.d/01bimkit-proxy")
    if data.get("apt_proxy"):
        assert f'Acquire::http::Proxy "{data["apt_proxy"]}";' in proxy.content_string
    else:
        assert not proxy.exists


def test_unattended_upgrades(host: Any) -> None:
    assert host.package("unattended-upgrades").is_installed
    periodic = host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic


def test_rsyslog_forwards_to_the_log_server(host: Any, estate_host: HostData) -> None:
    _, data = estate_host
    assert host.service("rsyslog").is_running
    assert host.run("rsyslogd -N1").rc == 0
    forward = host.file("/etc/rsyslog.d/90-bimkit-forward.conf")
    if "log_server" in data["roles"]:
        assert not forward.exists
    else:
        # Over TLS, with this host's own certificate of the estate CA (0600).
        for server in data["syslog_servers"]:
            assert f'target="{server}" port="6514" protocol="tcp"' in forward.content_string
        assert 'StreamDriverMode="1" StreamDriverAuthMode="x509/name"' in forward.content_string
        key = host.file("/etc/bimkit/tls/forward.key")
        assert key.mode == 0o600 and key.user == "root"


def test_ssh_accepts_keys_only(host: Any) -> None:
    """No password over SSH anywhere, workstations included (roles/workstation: admins come
    in by the keys in the data; staff sign in at the desk). OpenSSH 10 (Debian unstable)
    prints the keywords capitalised, and prohibit-password by its own name."""
    settings = host.check_output("sshd -T").lower()
    assert "passwordauthentication no" in settings
    assert "kbdinteractiveauthentication no" in settings
    assert re.search(r"^permitrootlogin (without|prohibit)-password$", settings, re.MULTILINE)
    assert host.service("ssh").is_running


def test_admin_group_may_sudo(host: Any) -> None:
    assert host.group("bim-admins").exists
    sudoers = host.file("/etc/sudoers.d/bim-admins")
    assert sudoers.mode == 0o440
    assert "%bim-admins ALL=(ALL:ALL) ALL" in sudoers.content_string
    assert host.run("visudo -c").rc == 0


def test_no_failed_units(host: Any) -> None:
    assert host.check_output("systemctl --failed --no-legend --plain") == ""
