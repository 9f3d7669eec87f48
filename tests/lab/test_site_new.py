"""A new unit site from a template: created, booted in the lab, provisioned by the base role.

Runs while the whole lab is up (test_lab.py, which takes it down, runs last),
so the new site's workstations ask the real DCs' DNS.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bimkit.model.load import load_estate
from tests.conftest import REPO, EstateData
from tests.lab.conftest import DeployTotals, bimkit, deploy_site
from tests.lab.test_backups import on

ESTATE = load_estate(REPO)
REALM = ESTATE.config.realm


@pytest.fixture
def dcs_back_to_the_estate(first_deploy: DeployTotals) -> Iterator[None]:
    """The test deploys the DCs with its own data (one more site); afterwards they get the
    repository's estate again (hosts, DHCP), so later tests find the estate they expect."""
    yield
    restored = deploy_site("--limit", "domain_controllers")
    assert restored.errors == 0, restored.output[-3000:]


def test_a_new_site_is_created_booted_and_provisioned(
    dcs_back_to_the_estate: None, estate_data: EstateData
) -> None:
    tmp_path = estate_data.root
    data = str(tmp_path)
    bimkit("site", "new", "Kültür Merkezi", "--number", "5", "--title", "Kültür Merkezi",
           "--workstations", "2", "--phones", "2", "--data", data)  # fmt: skip
    bimkit("validate", "--data", data)
    bimkit("lab", "up", "--sites", "kultur-merkezi", "--data", data)
    # The DCs too: they make the new site's AD site, subnet and the OU its workstations join.
    limit = ("--limit", "site_kultur-merkezi", "--limit", "domain_controllers")
    first = deploy_site(*limit, data=tmp_path)
    assert first.errors == 0 and first.changed > 0, first.output[-3000:]
    again = deploy_site(*limit, data=tmp_path)
    assert (again.errors, again.changed) == (0, 0), again.changed_operations + again.output[-3000:]
    assert on("kultur-merkezi-ws02", "hostname -f") == "kultur-merkezi-ws02.ad.kayapinar.bel.tr"
    assert on("kultur-merkezi-ws01", "ip -4 -o addr show eth0 | awk '{print $4}'") == (
        "10.21.82.11/23"
    )
    # The new site asks both DCs' DNS itself (not /etc/hosts): the realm's records answer.
    for dc in ESTATE.domain_controllers:
        answer = on("kultur-merkezi-ws01", f"host -W 5 -t SRV _ldap._tcp.{REALM} {dc.address}")
        assert f"_ldap._tcp.{REALM} has SRV record" in answer, answer
        answer = on("kultur-merkezi-ws01", f"host -W 5 -t A dc1.{REALM} {dc.address}")
        assert answer.endswith(f"dc1.{REALM} has address {ESTATE.primary_dc.address}"), answer
    servers = on("kultur-merkezi-ws01", "awk '/^nameserver/ {print $2}' /etc/resolv.conf")
    assert servers.split() == [str(dc.address) for dc in ESTATE.domain_controllers]
