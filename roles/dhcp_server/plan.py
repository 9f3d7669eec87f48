"""What `roles/dhcp_server` wants on a DC: Kea's configuration from the estate (pure).

Kea serves every site's data and voice VLANs, relayed from the site gateways;
the DCs form a hot-standby pair (the primary serves, the standby takes over
when the primary stops answering its heartbeats). Every lease event is
written by bimkit-dhcp-lease to a file only Kea may write, which rsyslog sends
to the log server on the lease channel alone (law 5651).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from roles.base.plan import log_collectors
from roles.log_server.plan import LEASE_CHANNEL_PORT
from roles.managed import ManagedDirectory, ManagedFile, State
from roles.templates import render
from roles.units import restart_retried

PACKAGES = ("kea-dhcp4-server", "python3", "logrotate")
SERVICE = "kea-dhcp4-server.service"
RESTART = restart_retried(SERVICE)
KEA_CONF = "/etc/kea/kea-dhcp4.conf"
CHECK_CONFIG = f"runuser -u _kea -- env KEA_LOCKFILE_DIR=none kea-dhcp4 -t {KEA_CONF}"
"""Kea's own check, as the service's user and without its logger lock file: run as root, it
could leave root-owned files in the service's directories."""
LEASE_HOOK = "/usr/local/sbin/bimkit-dhcp-lease"
LEASE_EVENTS_DIR = "/var/log/bimkit-dhcp"
LEASE_EVENTS = f"{LEASE_EVENTS_DIR}/leases.log"
"""Written by the hook as Kea's user (files/bimkit_dhcp_lease.py: EVENTS), read by rsyslog."""
LEASE_CHANNEL_CONF = "/etc/rsyslog.d/95-bimkit-lease-channel.conf"
LEASE_LOGROTATE = "/etc/logrotate.d/bimkit-dhcp-leases"
HA_PORT = 8004
"""The HA peers' own HTTP listener inside kea-dhcp4 (no control agent needed)."""

MULTIARCH = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}


def hooks_directory(arch: str) -> str:
    """Debian's Kea hooks folder; Kea 2.6.3 loads hooks from there only."""
    return f"/usr/lib/{MULTIARCH.get(arch, f'{arch}-linux-gnu')}/kea/hooks"


def high_availability(hostname: str, peers: list[Mapping[str, str]]) -> dict[str, Any]:
    return {
        "this-server-name": hostname,
        "mode": "hot-standby",
        "heartbeat-delay": 2000,
        "max-response-delay": 6000,
        "max-ack-delay": 5000,
        # The standby takes over when heartbeats fail; it need not first see
        # clients go unanswered (they may all be at one site).
        "max-unacked-clients": 0,
        "multi-threading": {
            "enable-multi-threading": True,
            "http-dedicated-listener": True,
            "http-listener-threads": 0,
            "http-client-threads": 0,
        },
        "peers": [
            {
                "name": peer["name"],
                "url": f"http://{peer['address']}:{HA_PORT}/",
                "role": peer["role"],
                "auto-failover": True,
            }
            for peer in peers
        ],
    }


def subnet(entry: Mapping[str, Any], provisioning_url: str | None) -> dict[str, Any]:
    options = [{"name": "routers", "data": entry["gateway"]}]
    if entry["kind"] == "voice" and provisioning_url:
        # Option 66: where the phones fetch their provisioning files (roles/pbx).
        options.append({"name": "tftp-server-name", "data": provisioning_url})
    first, last = entry["pool"]
    return {
        "id": entry["id"],
        "subnet": entry["subnet"],
        "pools": [{"pool": f"{first} - {last}"}],
        "option-data": options,
        "reservations": [
            {"hw-address": r["mac"], "ip-address": r["address"], "hostname": r["hostname"]}
            for r in entry["reservations"]
        ],
        "user-context": {"site": entry["site"], "vlan": entry["kind"]},
    }


def kea_config(hostname: str, data: Mapping[str, Any], arch: str) -> dict[str, Any]:
    dhcp = data["dhcp"]
    hooks = hooks_directory(arch)
    libraries: list[dict[str, Any]] = [{"library": f"{hooks}/libdhcp_lease_cmds.so"}]
    if len(dhcp["peers"]) > 1:
        libraries.append(
            {
                "library": f"{hooks}/libdhcp_ha.so",
                "parameters": {"high-availability": [high_availability(hostname, dhcp["peers"])]},
            }
        )
    libraries.append(
        {"library": f"{hooks}/libdhcp_run_script.so",
         "parameters": {"name": LEASE_HOOK, "sync": False}}
    )  # fmt: skip
    return {
        "Dhcp4": {
            # Requests reach the DCs relayed (unicast) from the site gateways.
            "interfaces-config": {"interfaces": ["*"], "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 3600},
            "valid-lifetime": dhcp["lease_seconds"],
            "multi-threading": {"enable-multi-threading": True},
            "option-data": [
                {"name": "domain-name-servers", "data": ", ".join(dhcp["dns_servers"])},
                {"name": "ntp-servers", "data": ", ".join(dhcp["ntp_servers"])},
                {"name": "domain-name", "data": dhcp["domain"]},
                {"name": "domain-search", "data": dhcp["domain"]},
            ],
            "subnet4": [subnet(entry, dhcp["provisioning_url"]) for entry in dhcp["subnets"]],
            "hooks-libraries": libraries,
            "loggers": [
                {
                    "name": "kea-dhcp4",
                    "output_options": [{"output": "syslog:kea-dhcp4"}],
                    "severity": "INFO",
                }
            ],
        }
    }


def kea_conf(hostname: str, data: Mapping[str, Any], arch: str) -> str:
    config = json.dumps(kea_config(hostname, data, arch), indent=2, ensure_ascii=False)
    return render("dhcp_server/kea-dhcp4.conf.j2", config=config)


def lease_channel(data: Mapping[str, Any]) -> list[State]:
    """The hook's folder and the rsyslog input that sends its events to the log servers."""
    restart = ("systemctl restart rsyslog",)
    return [
        ManagedDirectory(LEASE_EVENTS_DIR, mode="750", user="_kea", group="_kea"),
        ManagedFile(
            LEASE_CHANNEL_CONF,
            render("dhcp_server/rsyslog-lease-channel.conf.j2", events=LEASE_EVENTS,
                   log_servers=log_collectors(data), port=LEASE_CHANNEL_PORT),
            then=restart,
        ),
        ManagedFile(LEASE_LOGROTATE, render("dhcp_server/logrotate-leases.j2",
                                            events=LEASE_EVENTS)),
    ]  # fmt: skip
