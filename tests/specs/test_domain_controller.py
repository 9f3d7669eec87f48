"""roles/domain_controller: every DC serves the realm; additional DCs replicate. DCs only."""

from __future__ import annotations

import json
from typing import Any

import pytest

HostData = tuple[str, dict[str, Any]]


@pytest.fixture(autouse=True)
def domain_controllers_only(estate_host: HostData) -> None:
    name, data = estate_host
    if "dc_role" not in data:
        pytest.skip(f"{name} is not a domain controller")


def test_samba_ad_dc_runs_instead_of_the_member_daemons(host: Any) -> None:
    assert host.service("samba-ad-dc").is_running
    for unit in ("smbd", "nmbd", "winbind"):
        assert not host.service(unit).is_running


def test_realm_dns_records_resolve(host: Any, estate_host: HostData) -> None:
    _, data = estate_host
    for record in ("_ldap._tcp", "_kerberos._tcp", "_kerberos._udp"):
        answer = host.check_output(f"host -t SRV {record}.{data['realm']} 127.0.0.1")
        assert f".{data['realm']}." in answer


def test_domain_database_is_consistent(host: Any) -> None:
    assert host.run("samba-tool dbcheck").rc == 0


def test_admin_password_is_readable_by_root_only(host: Any) -> None:
    secret = host.file("/etc/bimkit/ad_admin_password")
    assert (secret.mode, secret.user) == (0o600, "root")
    assert host.file("/etc/bimkit").mode == 0o700


def test_additional_dc_replicates_every_partition_without_failures(
    host: Any, estate_host: HostData
) -> None:
    _, data = estate_host
    if data["dc_role"] != "additional":
        pytest.skip("the primary replicates outwards only once another DC has joined")
    partners = json.loads(host.check_output("samba-tool drs showrepl --json"))["repsFrom"]
    assert len(partners) >= 3  # the domain, DomainDnsZones and ForestDnsZones at least
    assert all(link["consecutive failures"] == 0 for link in partners), partners
