"""What `roles/log_server` wants on the log server, from its inventory data (pure).

The collector (rsyslog) writes <archive>/<YYYY-MM-DD>/<source>.log, the source
named after the sender's address as the data knows it. Estate hosts send over
TLS with a client certificate of the estate CA; network devices send plain
syslog and are heard only from their own management addresses.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bimkit.tls import ServerTls
from dr.config import LogsConfig, Notify, TimeStampAuthority, to_json
from dr.paths import (
    LOG_ARCHIVE,
    LOGS_CONFIG,
    LOGS_TOOL,
    NOTIFIER,
    TSA_CA_FILE,
    TSA_HEADER_FILE,
)
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.templates import render
from roles.units import unit_files

PACKAGES = ("rsyslog", "rsyslog-gnutls", "openssl")
COLLECTOR_CONF = "/etc/rsyslog.d/10-bimkit-collector.conf"
TLS_DIR = "/etc/bimkit/tls"
CA = f"{TLS_DIR}/ca.pem"
COLLECTOR_CERTIFICATE = f"{TLS_DIR}/collector.pem"
COLLECTOR_KEY = f"{TLS_DIR}/collector.key"
SOURCES_TABLE = "/etc/bimkit/rsyslog-sources.json"
DEVICES_TABLE = "/etc/bimkit/rsyslog-devices.json"
TLS_PORT = 6514
PLAIN_PORT = 514
SEAL_UNIT = "bimkit-logs-seal"
RESTART_RSYSLOG = ("systemctl restart rsyslog",)


def lookup_table(entries: Mapping[str, str]) -> str:
    """An rsyslog string lookup table: address -> source name ("" when unknown)."""
    table = [{"index": address, "value": name} for address, name in sorted(entries.items())]
    return json.dumps({"version": 1, "nomatch": "", "type": "string", "table": table},
                      indent=1) + "\n"  # fmt: skip


def collector_conf(hostname: str, readers: str) -> str:
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
        tls_port=TLS_PORT,
        plain_port=PLAIN_PORT,
    )


def logs_config(archive: Mapping[str, Any], timezone: str) -> str:
    return to_json(
        LogsConfig(
            root=LOG_ARCHIVE,
            timezone=timezone,
            retention_days=archive["retention_days"],
            tsa=TimeStampAuthority(
                url=archive["tsa_url"],
                ca_file=TSA_CA_FILE,
                header_name=archive["tsa_header"],
                header_file=TSA_HEADER_FILE if archive["tsa_header"] else None,
            ),
            notify=Notify(**archive["notify"]),
        )
    )


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
    message = (
        f"{hostname}: estate.yaml logs.tsa.certificates is not set: bimkit cannot check the "
        f"tokens of {url}; put the TSA's CA chain (PEM) beside the data and name it there"
    )
    return f"echo {shlex.quote(message)} >&2; exit 1"


@dataclass(frozen=True)
class LogServerPlan:
    readers: str
    wanted: list[State]


def plan_log_server(
    hostname: str, data: Mapping[str, Any], tls: ServerTls, tsa_header: str | None
) -> LogServerPlan:
    """Everything but the packages and the readers' group (created first)."""
    archive = data["log_archive"]
    readers = archive["readers"]
    wanted: list[State] = [
        ManagedDirectory(LOG_ARCHIVE, mode="750", group=readers),
        ManagedDirectory(TLS_DIR, mode="755"),
        ManagedFile(CA, tls.ca_pem, then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_CERTIFICATE, tls.certificate_pem, then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_KEY, tls.key_pem, mode="600", private=True, then=RESTART_RSYSLOG),
        ManagedFile(SOURCES_TABLE, lookup_table(archive["sources"]), then=RESTART_RSYSLOG),
        ManagedFile(DEVICES_TABLE, lookup_table(archive["network_devices"]),
                    then=RESTART_RSYSLOG),
        ManagedFile(COLLECTOR_CONF, collector_conf(hostname, readers), then=RESTART_RSYSLOG),
        ManagedFile(TSA_CA_FILE, archive["tsa_certificates"]),
    ]  # fmt: skip
    if tsa_header is not None:
        wanted.append(ManagedFile(TSA_HEADER_FILE, tsa_header + "\n", mode="600", private=True))
    wanted += unit_files(seal_units(archive["seal_schedule"]))
    # A new or changed archive is sealed at once, not at the next timer run.
    wanted.append(
        ManagedFile(
            LOGS_CONFIG,
            logs_config(archive, data["timezone"]),
            then=(f"systemctl start --no-block {SEAL_UNIT}.service",),
        )
    )
    wanted += [Service("rsyslog.service"), Service(f"{SEAL_UNIT}.timer")]
    return LogServerPlan(readers, wanted)
