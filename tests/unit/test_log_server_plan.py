"""roles/log_server: the collector, the archive and the seal timer, planned without a host."""

from __future__ import annotations

import json
import subprocess
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from bimkit.tls import server_tls, ssh_client_key
from dr.config import LogsConfig, load
from dr.paths import (
    LOG_ARCHIVE,
    LOGS_CONFIG,
    SEAL_STORE_KEY,
    SEAL_STORE_KNOWN_HOSTS,
    TSA_IDENTITY_FILE,
)
from roles.log_seal_store.plan import AUTHORIZED_KEYS, plan_seal_store
from roles.log_server.plan import (
    COLLECTOR_CONF,
    COLLECTOR_KEY,
    DEVICES_TABLE,
    DHCP_SERVERS_TABLE,
    SOURCES_TABLE,
    missing_tsa_command,
    plan_log_server,
    tsa_identity,
    unpinned_store_command,
)
from roles.managed import ManagedDirectory, ManagedFile
from tests.conftest import example_host_data

DATA = example_host_data()
TLS = server_tls("test secret", "Kayapınar Belediyesi", "log1", "log1.ad.kayapinar.bel.tr",
                 IPv4Address("10.21.17.12"))  # fmt: skip
CA = "-----BEGIN CERTIFICATE-----\nlab\n-----END CERTIFICATE-----\n"
STORE_KEY = ssh_client_key("test secret", "log seals log1.ad.kayapinar.bel.tr")
DR1_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAVPEO+Jj40yOhCAMXuBXWf+8cXfC+hsvy3Gt5sj1IZ9"


def log1(**archive: Any) -> dict[str, Any]:
    data = DATA["log1"]
    store = {**data["log_archive"]["seal_store"], "host_keys": [DR1_KEY]}
    return {**data, "log_archive": {**data["log_archive"], "tsa_certificates": CA,
                                    "seal_store": store, **archive}}  # fmt: skip


def files_of(
    data: dict[str, Any], identity: str | None = tsa_identity("70001234", "parola")
) -> dict[str, Any]:
    plan = plan_log_server("log1", data, TLS, identity, STORE_KEY)
    return {
        item.path: item for item in plan.wanted if isinstance(item, ManagedFile | ManagedDirectory)
    }


def test_only_the_log_server_has_an_archive_and_it_defaults_to_two_years() -> None:
    assert [name for name, data in DATA.items() if "log_archive" in data] == ["log1"]
    archive = DATA["log1"]["log_archive"]
    assert archive["retention_years"] == 2 and archive["readers"] == "log-readers"


def test_lease_events_are_taken_only_from_the_dhcp_servers_certificates() -> None:
    files = files_of(log1())
    servers = json.loads(files[DHCP_SERVERS_TABLE].content)["table"]
    assert servers == [{"index": "10.21.17.10", "value": "dc1"},
                       {"index": "10.21.33.10", "value": "dc2"}]  # fmt: skip
    conf = files[COLLECTOR_CONF].content
    assert (
        'input(type="imtcp" port="6515" ruleset="bimkit_leases"\n'
        '      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/name"\n'
        '      permittedPeer=["dc1.ad.kayapinar.bel.tr","dc2.ad.kayapinar.bel.tr"])'
    ) in conf
    leases = conf[conf.index('ruleset(name="bimkit_leases")') :]
    assert 'string="/var/log/remote/%$year%-%$month%-%$day%/%$.source%.leases"' in conf
    assert 'set $.source = "lease-channel-refused-" & $fromhost-ip;' in leases
    # The hosts' and the devices' rulesets never write a .leases file.
    hosts = conf[
        conf.index('ruleset(name="bimkit_hosts")') : conf.index('ruleset(name="bimkit_devices')
    ]
    assert "bimkit_leases_file" not in hosts


def test_the_chain_is_copied_to_the_dr_host_with_a_key_bound_to_its_folder() -> None:
    files = files_of(log1())
    key = files[SEAL_STORE_KEY]
    assert key.mode == "600" and key.private and "EC PRIVATE KEY" in key.content
    assert files[SEAL_STORE_KNOWN_HOSTS].content == f"10.21.33.20 {DR1_KEY}\n"
    config = json.loads(files[LOGS_CONFIG].content)
    assert config["store"] == {"address": "10.21.33.20", "key_file": SEAL_STORE_KEY,
                               "known_hosts_file": SEAL_STORE_KNOWN_HOSTS,
                               "user": "bimkit-seals", "port": 22}  # fmt: skip
    assert ssh_client_key("test secret", "log seals log1.ad.kayapinar.bel.tr") == STORE_KEY
    store = {item.path: item for item in plan_seal_store({"log1": STORE_KEY.public})}
    assert store[AUTHORIZED_KEYS].content == (
        'command="/usr/local/sbin/bimkit-log-store /srv/log-seals/log1",restrict '
        f"{STORE_KEY.public} log-seals-log1\n")  # fmt: skip
    assert (store[AUTHORIZED_KEYS].user, store[AUTHORIZED_KEYS].mode) == ("root", "644")
    folder = store["/srv/log-seals/log1"]
    assert (folder.user, folder.mode) == ("bimkit-seals", "750")


def test_a_dr_host_without_a_pinned_key_fails_the_log_server_saying_what_to_do() -> None:
    result = subprocess.run(["sh", "-c", unpinned_store_command("log1", "dr1")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "run `bimkit hostkeys scan dr1`" in result.stderr


def test_files_are_named_by_the_senders_address_never_by_what_it_claims() -> None:
    files = files_of(log1())
    sources = json.loads(files[SOURCES_TABLE].content)
    assert {"index": "10.21.17.10", "value": "dc1"} in sources["table"]
    assert {"index": "10.21.50.11", "value": "zabita-ws01"} in sources["table"]
    assert sources["nomatch"] == ""
    conf = files[COLLECTOR_CONF].content
    assert 'string="/var/log/remote/%$year%-%$month%-%$day%/%$.source%.log"' in conf
    assert "%hostname%" not in conf


def test_plain_syslog_is_heard_only_from_the_network_devices_addresses() -> None:
    devices = json.loads(files_of(log1())[DEVICES_TABLE].content)["table"]
    assert {entry["value"] for entry in devices} == {"core-sw1", "fkm-sw1", "zabita-sw1", "fen-sw1"}
    assert all(entry["index"].endswith(".2") for entry in devices)  # their management addresses
    conf = files_of(log1())[COLLECTOR_CONF].content
    devices_rule = conf[conf.index('ruleset(name="bimkit_devices")') :]
    assert 'if $.source == "" then {\n    stop\n  }' in devices_rule


def test_hosts_must_show_a_certificate_of_the_estate_ca() -> None:
    conf = files_of(log1())[COLLECTOR_CONF].content
    assert ('input(type="imtcp" port="6514" ruleset="bimkit_hosts"\n'
            '      streamDriver.name="gtls" streamDriver.mode="1" '
            'streamDriver.authMode="x509/certvalid")') in conf  # fmt: skip
    key = files_of(log1())[COLLECTOR_KEY]
    assert key.mode == "600" and key.private


def test_the_archive_is_written_by_root_and_read_by_the_readers_group_only() -> None:
    files = files_of(log1(readers="kvkk-okur"))
    archive = files[LOG_ARCHIVE]
    assert (archive.mode, archive.user, archive.group) == ("750", "root", "kvkk-okur")
    conf = files[COLLECTOR_CONF].content
    assert 'dirCreateMode="0750" fileCreateMode="0640"' in conf
    assert 'dirGroup="kvkk-okur" fileOwner="root" fileGroup="kvkk-okur"' in conf


def test_the_host_reads_the_config_the_control_side_writes(tmp_path: Path) -> None:
    files = files_of(log1(tsa_url="http://10.21.17.1:3180/"))
    written = tmp_path / "logs.json"
    written.write_text(files[LOGS_CONFIG].content)
    config = load(LogsConfig, str(written))
    assert (config.root, config.retention_years, config.timezone, config.log_server) == (
        LOG_ARCHIVE, 2, "Europe/Istanbul", "log1.ad.kayapinar.bel.tr")  # fmt: skip
    assert config.tsa.url == "http://10.21.17.1:3180/"
    assert config.tsa.identity_file == TSA_IDENTITY_FILE
    assert config.longest_lease_seconds == 28800
    assert config.static_addresses["10.21.17.10"] == "dc1 (primary_dc; merkez)"
    identity = files[TSA_IDENTITY_FILE]
    assert identity.mode == "600" and identity.private
    assert json.loads(identity.content) == {"customer_id": 70001234, "password": "parola"}


def test_without_kamu_sm_no_credentials_file_is_written() -> None:
    files = files_of(log1(tsa_identity=False), identity=None)
    assert TSA_IDENTITY_FILE not in files
    assert json.loads(files[LOGS_CONFIG].content)["tsa"]["identity_file"] is None


def test_the_seal_timer_follows_the_data_and_seals_then_prunes() -> None:
    files = files_of(log1(seal_schedule="*-*-* 00:20"))
    timer = files["/etc/systemd/system/bimkit-logs-seal.timer"].content
    assert "OnCalendar=*-*-* 00:20\nPersistent=true\n" in timer
    service = files["/etc/systemd/system/bimkit-logs-seal.service"].content
    assert "ExecStart=/usr/local/sbin/bimkit-logs run\n" in service


def test_a_missing_tsa_certificate_fails_the_host_saying_what_to_add() -> None:
    result = subprocess.run(["sh", "-c", missing_tsa_command("log1", "http://tzd.kamusm.gov.tr")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "log1: estate.yaml logs.tsa.certificates is not set" in result.stderr


def test_a_day_not_sealed_tells_the_admins_as_a_failed_backup_does() -> None:
    files = files_of(log1(notify={"command": None, "webhook": "http://10.21.17.5/hook",
                                  "mail_to": None}))  # fmt: skip
    service = files["/etc/systemd/system/bimkit-logs-seal.service"].content
    assert "OnFailure=bimkit-logs-seal-failed.service\n" in service
    failed = files["/etc/systemd/system/bimkit-logs-seal-failed.service"].content
    assert f"Environment=BIMKIT_NOTIFY_CONFIG={LOGS_CONFIG}\n" in failed
    assert "bimkit-backup-notify log-sealing bimkit-logs-seal.service\n" in failed
    assert json.loads(files[LOGS_CONFIG].content)["notify"]["webhook"] == "http://10.21.17.5/hook"
