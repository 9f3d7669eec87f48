"""What `roles/log_server` wants on the log server, from its inventory data (pure).

The collector (rsyslog) writes <archive>/<YYYY-MM-DD>/<source>.log, the source
named after the sender's address as the data knows it. Estate hosts send over
TLS with a client certificate of the estate CA; network devices send plain
syslog and are heard only from their own management addresses. Lease events
come only on the lease channel: a port of their own, taking the DHCP servers'
certificates alone, into <archive>/<YYYY-MM-DD>/<dhcp server>.leases.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bimkit.tls import ServerTls, SshKey
from dr.config import LogsConfig, Notify, SealStore, TimeStampAuthority, to_json
from dr.paths import (
    LOG_ARCHIVE,
    LOGS_CONFIG,
    LOGS_TOOL,
    NOTIFIER,
    SEAL_STORE_KEY,
    SEAL_STORE_KNOWN_HOSTS,
    SEAL_STORE_USER,
    TSA_CA_FILE,
    TSA_IDENTITY_FILE,
)
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.templates import render
from roles.units import unit_files

PACKAGES = ("rsyslog", "rsyslog-gnutls", "openssl", "openssh-client", "chrony")
COLLECTOR_CONF = "/etc/rsyslog.d/10-bimkit-collector.conf"
TLS_DIR = "/etc/bimkit/tls"
CA = f"{TLS_DIR}/ca.pem"
COLLECTOR_CERTIFICATE = f"{TLS_DIR}/collector.pem"
COLLECTOR_KEY = f"{TLS_DIR}/collector.key"
SOURCES_TABLE = "/etc/bimkit/rsyslog-sources.json"
DEVICES_TABLE = "/etc/bimkit/rsyslog-devices.json"
DHCP_SERVERS_TABLE = "/etc/bimkit/rsyslog-dhcp-servers.json"
TLS_PORT = 6514
LEASE_CHANNEL_PORT = 6515
"""Lease events only, from the DHCP servers' certificates only."""
PLAIN_PORT = 514
SEAL_UNIT = "bimkit-logs-seal"
RESTART_RSYSLOG = ("systemctl restart rsyslog",)


def lookup_table(entries: Mapping[str, str]) -> str:
    """An rsyslog string lookup table: address -> source name ("" when unknown)."""
    table = [{"index": address, "value": name} for address, name in sorted(entries.items())]
    return json.dumps({"version": 1, "nomatch": "", "type": "string", "table": table},
                      indent=1) + "\n"  # fmt: skip


def collector_conf(hostname: str, readers: str, dhcp_servers: list[str]) -> str:
    """+ dhcp_servers: the names (in the realm) whose certificates the lease channel takes"""
    return render(
        "log_server/rsyslog-collector.conf.j2",
        hostname=hostname,
        root=LOG_ARCHIVE,
        readers=readers,
        ca=CA,
        certificate=COLLECTOR_CERTIFICATE,
        key=COLLECTOR_KEY,
        sources_table=SOURCES_TABLE,
        devices_table=DEVICES_TABLE,
        dhcp_servers_table=DHCP_SERVERS_TABLE,
        dhcp_servers=dhcp_servers,
        tls_port=TLS_PORT,
        lease_port=LEASE_CHANNEL_PORT,
        plain_port=PLAIN_PORT,
    )


def logs_config(data: Mapping[str, Any], fqdn: str) -> str:
    archive = data["log_archive"]
    store = archive["seal_store"]
    return to_json(
        LogsConfig(
            root=LOG_ARCHIVE,
            timezone=data["timezone"],
            log_server=fqdn,
            municipality=data["municipality"],
            retention_years=archive["retention_years"],
            tsa=TimeStampAuthority(
                url=archive["tsa_url"],
                ca_file=TSA_CA_FILE,
                identity_file=TSA_IDENTITY_FILE if archive["tsa_identity"] else None,
            ),
            store=SealStore(store["address"], SEAL_STORE_KEY, SEAL_STORE_KNOWN_HOSTS,
                            SEAL_STORE_USER) if store else None,
            longest_lease_seconds=archive["longest_lease_seconds"],
            static_addresses=dict(archive["static_addresses"]),
            notify=Notify(**archive["notify"]),
        )
    )  # fmt: skip


def tsa_identity(customer_id: str, password: str) -> str:
    """The root-only file Kamu SM's identity header is made from (dr.logs.kamusm)."""
    return json.dumps({"customer_id": int(customer_id), "password": password}) + "\n"


def store_known_hosts(address: str, host_keys: list[str]) -> str:
    """The DR host's pinned keys, by the address the log server reaches it at."""
    return "".join(f"{address} {key}\n" for key in sorted(host_keys))


def seal_units(schedule: str) -> dict[str, str]:
    return {
        f"{SEAL_UNIT}.service": render(
            "log_server/bimkit-logs-seal.service.j2", tool=LOGS_TOOL, failed=f"{SEAL_UNIT}-failed"
        ),
        f"{SEAL_UNIT}.timer": render("log_server/bimkit-logs-seal.timer.j2", schedule=schedule),
        # A day the TSA did not stamp is retried by the next run, and the admins hear of it.
        f"{SEAL_UNIT}-failed.service": render(
            "log_server/bimkit-logs-seal-failed.service.j2",
            notifier=NOTIFIER,
            config=LOGS_CONFIG,
            unit=f"{SEAL_UNIT}.service",
        ),
    }


def missing_tsa_command(hostname: str, url: str) -> str:
    """Fails the deploy on this host, saying what to add to the data."""
    return failing_command(
        f"{hostname}: estate.yaml logs.tsa.certificates is not set: bimkit cannot check the "
        f"tokens of {url}; put the TSA's CA chain (PEM) beside the data and name it there"
    )


def unpinned_store_command(hostname: str, dr_host: str) -> str:
    return failing_command(
        f"{hostname}: the DR host {dr_host}, which keeps a copy of the log chain, has no pinned "
        f"SSH host key in known_hosts beside the data: run `bimkit hostkeys scan {dr_host}`"
    )


def failing_command(message: str) -> str:
    return f"echo {shlex.quote(message)} >&2; exit 1"


@dataclass(frozen=True)
class LogServerPlan:
    readers: str
    wanted: list[State]


def plan_log_server(
    hostname: str,
    data: Mapping[str, Any],
    tls: ServerTls,
    identity: str | None,
    store_key: SshKey | None,
) -> LogServerPlan:
    """Everything but the packages and the readers' group (created first).

    + identity: the TSA's credentials file (tsa_identity), when the data asks for them
    + store_key: the key for the chain's copy on the DR host (bimkit.tls.ssh_client_key)
    """
    archive = data["log_archive"]
    readers = archive["readers"]
    dhcp_servers = sorted(f"{name}.{data['realm']}" for name in archive["dhcp_servers"].values())
    wanted: list[State] = [
        ManagedDirectory(LOG_ARCHIVE, mode="750", group=readers),
        ManagedDirectory(TLS_DIR, mode="755"),
        ManagedFile(CA, tls.ca_pem, then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_CERTIFICATE, tls.certificate_pem, then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_KEY, tls.key_pem, mode="600", private=True, then=RESTART_RSYSLOG),
        ManagedFile(SOURCES_TABLE, lookup_table(archive["sources"]), then=RESTART_RSYSLOG),
        ManagedFile(DEVICES_TABLE, lookup_table(archive["network_devices"]),
                    then=RESTART_RSYSLOG),
        ManagedFile(DHCP_SERVERS_TABLE, lookup_table(archive["dhcp_servers"]),
                    then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_CONF, collector_conf(hostname, readers, dhcp_servers),
                    then=RESTART_RSYSLOG),
        ManagedFile(TSA_CA_FILE, archive["tsa_certificates"]),
    ]  # fmt: skip
    if identity is not None:
        wanted.append(ManagedFile(TSA_IDENTITY_FILE, identity, mode="600", private=True))
    store = archive["seal_store"]
    if store and store_key:
        wanted += [
            ManagedDirectory(SEAL_STORE_KEY.rsplit("/", 1)[0], mode="700"),
            ManagedFile(SEAL_STORE_KEY, store_key.private_pem, mode="600", private=True),
            ManagedFile(SEAL_STORE_KNOWN_HOSTS,
                        store_known_hosts(store["address"], store["host_keys"])),
        ]  # fmt: skip
    wanted += unit_files(seal_units(archive["seal_schedule"]))
    # A new or changed archive is sealed at once, not at the next timer run.
    wanted.append(
        ManagedFile(
            LOGS_CONFIG,
            logs_config(data, f"{hostname}.{data['realm']}"),
            then=(f"systemctl start --no-block {SEAL_UNIT}.service",),
        )
    )
    wanted += [Service("rsyslog.service"), Service(f"{SEAL_UNIT}.timer")]
    return LogServerPlan(readers, wanted)
