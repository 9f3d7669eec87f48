"""bimkit.ad_sites: the estate's AD sites, links, DC placement and site coverage, planned."""

from __future__ import annotations

from bimkit.ad_sites import (
    Link,
    SiteAction,
    Topology,
    answers_for,
    desired_topology,
    plan_sites,
    topology_from_state,
    topology_state,
    unknown_topology,
)
from bimkit.model.load import load_estate
from roles.domain_controller.plan import (
    register_site_records_command,
    site_records,
    site_records_command,
)
from tests.conftest import REPO, EstateData
from tests.unit.test_validation import assert_reported, problems_of, setter

DESIRED = desired_topology(load_estate(REPO))


def test_every_site_is_an_ad_site_with_its_block_and_each_dc_stands_in_its_own() -> None:
    assert DESIRED.sites == {
        "fen-isleri": ("10.21.64.0/20",),
        "fkm": ("10.21.32.0/20",),
        "merkez": ("10.21.16.0/20",),
        "zabita": ("10.21.48.0/20",),
    }
    assert DESIRED.servers == {"DC1": "merkez", "DC2": "fkm"}
    # Default links: every site to the central site.
    assert set(DESIRED.links) == {"merkez-fen-isleri", "merkez-fkm", "merkez-zabita"}
    assert DESIRED.links["merkez-zabita"] == Link(("merkez", "zabita"), 100)
    # Sites without a DC are answered for by the DCs of the cheapest linked site.
    assert DESIRED.coverage == {"fen-isleri": ("DC1",), "zabita": ("DC1",)}
    assert answers_for(DESIRED, "dc1") == ["merkez", "fen-isleri", "zabita"]
    assert answers_for(DESIRED, "dc2") == ["fkm"]


def test_a_fresh_samba_domain_gets_every_site_link_and_subnet_and_its_dc_moved() -> None:
    fresh = Topology(
        sites={"Default-First-Site-Name": ()},
        links={"DEFAULTIPSITELINK": Link(("Default-First-Site-Name",), 100)},
        servers={"DC1": "Default-First-Site-Name"},
    )
    actions = plan_sites(DESIRED, fresh)
    steps = [(a.step, a.target) for a in actions]
    assert steps[:4] == [("create_site", s) for s in ("fen-isleri", "fkm", "merkez", "zabita")]
    assert ("set_subnet", "10.21.48.0/20") in steps and ("set_link", "merkez-fkm") in steps
    assert SiteAction("move_server", "DC1", {"site": "merkez"}) in actions
    assert all(a.target != "DC2" for a in actions), "DC2 has not joined: nothing to move"
    assert not [a for a in actions if "Default-First-Site-Name" in a.target], "left alone"


def test_a_converged_domain_plans_nothing_and_a_changed_link_cost_is_one_action() -> None:
    converged = topology_from_state(topology_state(DESIRED))
    assert plan_sites(DESIRED, converged) == []
    cheaper = Topology(DESIRED.sites, {**DESIRED.links, "merkez-fkm": Link(("fkm", "merkez"), 50)},
                       DESIRED.servers)  # fmt: skip
    assert plan_sites(DESIRED, cheaper) == [
        SiteAction("set_link", "merkez-fkm", {"sites": ["merkez", "fkm"], "cost": 100})
    ]


def test_an_unprovisioned_domain_asks_every_dc_into_its_site() -> None:
    actions = plan_sites(DESIRED, unknown_topology(DESIRED))
    moves = {a.target: a.details["site"] for a in actions if a.step == "move_server"}
    assert moves == {"DC1": "merkez", "DC2": "fkm"}


def test_site_links_from_the_data_decide_who_covers_a_site(estate_data: EstateData) -> None:
    links = [
        {"sites": ["merkez", "fkm"]},
        {"sites": ["merkez", "zabita"], "cost": 200},
        {"sites": ["fkm", "zabita"], "cost": 50},
        {"sites": ["merkez", "fen-isleri"]},
    ]
    estate_data.edit("estate.yaml", setter("site_links", value=links))
    topology = desired_topology(load_estate(estate_data.root))
    assert topology.links["fkm-zabita"] == Link(("fkm", "zabita"), 50)
    assert topology.coverage == {"fen-isleri": ("DC1",), "zabita": ("DC2",)}


def test_a_site_link_to_an_unknown_site_is_refused(estate_data: EstateData) -> None:
    links = [{"sites": ["merkez", "sur"]}, {"sites": ["zabita", "zabita"]}]
    estate_data.edit("estate.yaml", setter("site_links", value=links))
    problems = problems_of(estate_data.root)
    assert_reported(problems, "estate.yaml", "site_links[0].sites[1]",
                    r"site `sur` does not exist")  # fmt: skip
    assert_reported(problems, "estate.yaml", "site_links[1].sites", "two different sites")


def test_site_records_are_read_from_the_dcs_own_dns_answers() -> None:
    command = site_records_command("ad.kayapinar.bel.tr", ["merkez", "zabita"])
    assert "host -t SRV _ldap._tcp.zabita._sites.ad.kayapinar.bel.tr 127.0.0.1" in command
    output = [
        "== merkez",
        "_ldap._tcp.merkez._sites.ad.kayapinar.bel.tr has SRV record 0 100 389 "
        "dc1.ad.kayapinar.bel.tr.",
        "== zabita",
        "Host _ldap._tcp.zabita._sites.ad.kayapinar.bel.tr not found: 3(NXDOMAIN)",
    ]
    assert site_records(output) == {"merkez": ["dc1"], "zabita": []}
    register = register_site_records_command("ad.kayapinar.bel.tr", "dc1", ["merkez", "zabita"])
    assert register.startswith("samba_dnsupdate && ")
    assert "dc1: no _ldap._tcp.zabita._sites.ad.kayapinar.bel.tr record names it" in register
