"""What `roles/base` wants on a host, computed from its inventory data (pure).

The deploy in `roles/base/__init__.py` only applies this plan, so everything
that decides *what* a host gets is unit-tested here without a host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bimkit.tls import ServerTls
from roles.managed import Absent, ManagedDirectory, ManagedFile, Service, State
from roles.templates import render


@dataclass(frozen=True)
class BaseVars:
    """The role's tunables. Host or group data with the same name overrides each one."""

    admin_group: str = "bim-admins"
    """Local group whose members may use sudo on every host."""
    ssh_max_auth_tries: int = 3
    """sshd MaxAuthTries."""
    apt_cache_seconds: int = 86400
    """apt package lists younger than this are not refreshed (keeps runs idempotent)."""
    base_packages: tuple[str, ...] = (
        "tzdata",
        "chrony",
        "rsyslog",
        "rsyslog-gnutls",  # forwarding to the log server over TLS
        "unattended-upgrades",
        "sudo",
        "bind9-host",  # `host`: DNS checks by admins and by `bimkit dc health`
    )
    """Installed on every Linux host."""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BaseVars:
        overrides = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        if "base_packages" in overrides:
            overrides["base_packages"] = tuple(overrides["base_packages"])
        return cls(**overrides)


@dataclass(frozen=True)
class BasePlan:
    hostname: str
    timezone: str
    packages: tuple[str, ...]
    apt_cache_seconds: int
    admin_group: str
    apt_proxy: ManagedFile | None
    hosts: ManagedFile
    resolv: ManagedFile
    chrony: ManagedFile
    chrony_container: ManagedFile | None
    auto_upgrades: ManagedFile
    syslog_forward: ManagedFile | None
    forward_tls: tuple[State, ...]
    """The host's client certificate for the collector, and the CA that signed both."""
    sshd: ManagedFile
    sudoers: ManagedFile
    absent: tuple[str, ...]
    """Files the role removes where they do not apply (e.g. forwarding on the log server)."""

    def wanted(self) -> list[State]:
        """Everything but the apt proxy (first, alone: the way to the mirror) in one converge."""
        files = [self.hosts, self.resolv, self.chrony, self.chrony_container, self.auto_upgrades,
                 *self.forward_tls, self.syslog_forward, self.sshd, self.sudoers]  # fmt: skip
        return [
            *(Absent(path, then=RESTARTS.get(path, ())) for path in self.absent),
            *(managed for managed in files if managed is not None),
            Service("chrony.service"),
            Service("rsyslog.service"),
        ]


APT_PROXY = "/etc/apt/apt.conf.d/01bimkit-proxy"
CHRONY_CONF = "/etc/chrony/chrony.conf"
CHRONY_CONTAINER = "/etc/systemd/system/chrony.service.d/bimkit-container.conf"
SYSLOG_FORWARD = "/etc/rsyslog.d/90-bimkit-forward.conf"
FORWARD_TLS_DIR = "/etc/bimkit/tls"
FORWARD_CA = f"{FORWARD_TLS_DIR}/ca.pem"
FORWARD_CERTIFICATE = f"{FORWARD_TLS_DIR}/forward.pem"
FORWARD_KEY = f"{FORWARD_TLS_DIR}/forward.key"
COLLECTOR_TLS_PORT = 6514
SSHD_CONF = "/etc/ssh/sshd_config.d/50-bimkit.conf"
RESTARTS = {
    CHRONY_CONF: ("systemctl restart chrony",),
    CHRONY_CONTAINER: ("systemctl daemon-reload", "systemctl restart chrony"),
    SYSLOG_FORWARD: ("systemctl restart rsyslog",),
    # A broken sshd configuration must never be loaded: checked first.
    SSHD_CONF: ("sshd -t", "systemctl reload ssh"),
}
"""What follows a change of each file."""


def ntp_servers(data: Mapping[str, Any]) -> list[str]:
    """DCs follow the public upstream and each other; every other host follows the DCs."""
    own = data["address"]
    dcs = [address for address in data["ntp_servers"] if address != own]
    if "dc_role" in data:
        return [*data["ntp_upstream"], *dcs]
    return dcs


def nameservers(data: Mapping[str, Any]) -> list[str]:
    """Every host resolves through the DCs (they forward outside names); a DC asks itself first."""
    if "dc_role" in data:
        others = [address for address in data["dns_servers"] if address != data["address"]]
        return ["127.0.0.1", *others]
    return list(data["dns_servers"])


def forward_tls_files(tls: ServerTls) -> tuple[State, ...]:
    restart = RESTARTS[SYSLOG_FORWARD]
    return (
        ManagedDirectory(FORWARD_TLS_DIR, mode="755"),
        ManagedFile(FORWARD_CA, tls.ca_pem, then=restart),
        ManagedFile(FORWARD_CERTIFICATE, tls.certificate_pem, then=restart),
        ManagedFile(FORWARD_KEY, tls.key_pem, mode="600", private=True, then=restart),
    )


def log_collectors(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The log servers this host forwards to (none on a log server itself)."""
    if "log_server" in data["roles"]:
        return []
    names = {peer["address"]: peer["name"] for peer in data["peers"]}
    return [
        {"address": address, "fqdn": f"{names[address]}.{data['realm']}"}
        for address in data["syslog_servers"]
    ]


def plan_base(
    hostname: str, data: Mapping[str, Any], in_container: bool, forward_tls: ServerTls | None
) -> BasePlan:
    """The base state of host `hostname` from its inventory `data`.

    + in_container: the host is a container (the lab); chrony then keeps time
      without setting the clock, which belongs to the box.
    + forward_tls: the host's client certificate (bimkit.tls.client_tls), when it
      forwards to a log server
    """
    tunables = BaseVars.from_data(data)
    proxy = data.get("apt_proxy")
    syslog_servers = log_collectors(data) if forward_tls is not None else []
    absent = [
        path
        for path, wanted in (
            (APT_PROXY, proxy),
            (CHRONY_CONTAINER, in_container),
            (SYSLOG_FORWARD, syslog_servers),
        )
        if not wanted
    ]
    return BasePlan(
        hostname=hostname,
        timezone=data["timezone"],
        packages=tunables.base_packages,
        apt_cache_seconds=tunables.apt_cache_seconds,
        admin_group=tunables.admin_group,
        apt_proxy=ManagedFile(APT_PROXY, render("base/apt-proxy.conf.j2", apt_proxy=proxy))
        if proxy
        else None,
        hosts=ManagedFile(
            "/etc/hosts",
            render(
                "base/hosts.j2",
                hostname=hostname,
                fqdn=f"{hostname}.{data['realm']}",
                address=data["address"],
                dns_domain=data["realm"],
                peers=[p for p in data["peers"] if p["name"] != hostname],
            ),
        ),
        resolv=ManagedFile(
            "/etc/resolv.conf",
            render("base/resolv.conf.j2", dns_domain=data["realm"], nameservers=nameservers(data)),
        ),
        chrony=ManagedFile(
            CHRONY_CONF,
            render("base/chrony.conf.j2", ntp_servers=ntp_servers(data)),
            then=RESTARTS[CHRONY_CONF],
        ),
        chrony_container=ManagedFile(
            CHRONY_CONTAINER,
            render("base/chrony-container.conf.j2"),
            then=RESTARTS[CHRONY_CONTAINER],
        )
        if in_container
        else None,
        auto_upgrades=ManagedFile(
            "/etc/apt/apt.conf.d/20auto-upgrades", render("base/auto-upgrades.conf.j2")
        ),
        syslog_forward=ManagedFile(
            SYSLOG_FORWARD,
            render(
                "base/rsyslog-forward.conf.j2",
                syslog_servers=syslog_servers,
                port=COLLECTOR_TLS_PORT,
                ca=FORWARD_CA,
                certificate=FORWARD_CERTIFICATE,
                key=FORWARD_KEY,
            ),
            then=RESTARTS[SYSLOG_FORWARD],
        )
        if syslog_servers
        else None,
        forward_tls=forward_tls_files(forward_tls) if syslog_servers and forward_tls else (),
        sshd=ManagedFile(
            SSHD_CONF,
            render("base/sshd.conf.j2", ssh_max_auth_tries=tunables.ssh_max_auth_tries),
            then=RESTARTS[SSHD_CONF],
        ),
        sudoers=ManagedFile(
            f"/etc/sudoers.d/{tunables.admin_group}",
            render("base/sudoers.j2", admin_group=tunables.admin_group),
            mode="440",
        ),
        absent=tuple(absent),
    )
