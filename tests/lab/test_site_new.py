"""A new unit site from a template: created, booted in the lab, provisioned by the base role."""

from __future__ import annotations

from tests.conftest import EstateData
from tests.lab.conftest import DeployTotals, bimkit, deploy_site
from tests.lab.test_backups import on


def test_a_new_site_is_created_booted_and_provisioned(
    first_deploy: DeployTotals, estate_data: EstateData
) -> None:
    tmp_path = estate_data.root
    data = str(tmp_path)
    bimkit("site", "new", "Kültür Merkezi", "--number", "5", "--title", "Kültür Merkezi",
           "--workstations", "2", "--phones", "2", "--data", data)  # fmt: skip
    bimkit("validate", "--data", data)
    bimkit("lab", "up", "--sites", "kultur-merkezi", "--data", data)
    first = deploy_site("--limit", "site_kultur-merkezi", data=tmp_path)
    assert first.errors == 0 and first.changed > 0, first.output[-3000:]
    again = deploy_site("--limit", "site_kultur-merkezi", data=tmp_path)
    assert (again.errors, again.changed) == (0, 0), again.output[-3000:]
    assert on("kultur-merkezi-ws02", "hostname -f") == "kultur-merkezi-ws02.ad.kayapinar.bel.tr"
    assert on("kultur-merkezi-ws01", "ip -4 -o addr show eth0 | awk '{print $4}'") == (
        "10.21.82.11/23"
    )
    # The new site reaches the DCs, as every site does, through the DNS the base role set.
    assert on("kultur-merkezi-ws01", "getent hosts dc1.ad.kayapinar.bel.tr").startswith(
        "10.21.17.10"
    )
