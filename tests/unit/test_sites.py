"""`bimkit site new`: rendering against golden files, every refusal, and a property test."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bimkit import sites
from bimkit.model.load import load_estate
from bimkit.model.schema import VlanKind
from tests.conftest import REPO, EstateData, assert_golden
from tests.unit.test_cli import bimkit

ESTATE = load_estate(REPO)
GOLDEN = REPO / "tests" / "unit" / "data" / "golden"


def make(name: str = "kultur-merkezi", number: int = 5, template: str = "unit-small",
         root: Path = REPO, **given: object) -> sites.NewSite:  # fmt: skip
    estate = load_estate(root)
    return sites.new_site(root, estate, name, number, "Kültür Merkezi: Hizmet Binası", template,
                          given)  # fmt: skip


@pytest.mark.parametrize(
    ("template", "given"),
    [
        ("unit-small", {"phones": 6, "cameras": 2}),
        ("unit-large", {"workstations": 24, "phones": 16}),
    ],
)
def test_templates_render_as_the_golden_files(template: str, given: dict[str, object]) -> None:
    made = make(template=template, **given)
    assert_golden(GOLDEN / f"site-{template}.yaml", made.text)
    site = made.estate.sites["kultur-merkezi"]
    assert site.block == IPv4Network("10.21.80.0/20")
    assert made.estate.hosts["kultur-merkezi-ws01"].address.exploded == "10.21.82.11"


def test_a_large_site_has_a_file_server_its_role_protects() -> None:
    made = make(template="unit-large")
    server = made.estate.hosts["kultur-merkezi-fs1"]
    assert "file-shares" in server.protected_services
    assert server.vlan.kind is VlanKind.servers


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        ({"name": "zabita", "number": 9}, r"a site `zabita` exists already"),
        ({"number": 3}, r"site number 3 is taken by `zabita`"),
        ({"number": 16}, r"site number 16 is outside the supernet 10.21.0.0/16"),
        ({"template": "unit-huge"}, r"no site template `unit-huge` \(there are: unit-large, "),
        ({"name": "—!—"}, r"site name `—!—` cannot be a host name"),
        ({"name": "a" * 41}, r"cannot be a host name .*too long"),
        ({"workstations": 30}, r"workstations 30 is outside 1-20 for template `unit-small`"),
        ({"switch_os": "ios-xe"}, r"switch_os `ios-xe` is not one of cisco_ios"),
        ({"workstations": 20, "phones": 4}, r"has 23 access ports; 24 are asked for"),
        ({"fax": 2}, r"template `unit-small` has no parameter fax"),
    ],
)
def test_refusals(arguments: dict[str, object], refusal: str) -> None:
    with pytest.raises(sites.SiteRefused, match=refusal):
        make(**arguments)  # type: ignore[arg-type]


def test_a_block_overlapping_an_existing_subnet_is_refused() -> None:
    """Valid estates keep subnets in their blocks; this guards the check itself."""
    zabita = ESTATE.sites["zabita"]
    data = zabita.vlans[VlanKind.data]
    stray = dataclasses.replace(data, subnet=IPv4Network("10.21.80.0/24"))
    moved = dataclasses.replace(zabita, vlans={**zabita.vlans, VlanKind.data: stray})
    estate = dataclasses.replace(ESTATE, sites={**ESTATE.sites, "zabita": moved})
    with pytest.raises(sites.SiteRefused, match=r"overlaps zabita's data subnet 10.21.80.0/24"):
        sites.check_new_site(estate, REPO, "kultur-merkezi", 5)


def test_turkish_letters_are_folded_into_the_name() -> None:
    assert sites.site_name("Kültür Merkezi") == "kultur-merkezi"
    assert sites.site_name("Çarşı İşleri") == "carsi-isleri"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(min_value=0, max_value=15))
def test_a_new_site_never_overlaps_the_existing_ones(number: int) -> None:
    taken = {site.number for site in ESTATE.sites.values()}
    if number in taken:
        with pytest.raises(sites.SiteRefused, match=f"site number {number} is taken"):
            make(number=number)
        return
    made = make(number=number)
    new = made.estate.sites["kultur-merkezi"]
    for site in ESTATE.sites.values():
        assert not new.block.overlaps(site.block)
        for vlan in site.vlans.values():
            assert not any(v.subnet.overlaps(vlan.subnet) for v in new.vlans.values())


def test_the_cli_writes_dry_runs_and_never_overwrites_silently(estate_data: EstateData) -> None:
    data = str(estate_data.root)
    path = estate_data.root / "sites" / "kultur-merkezi.yaml"
    arguments = ["site", "new", "Kültür Merkezi", "--number", "5", "--title", "Kültür Merkezi",
                 "--data", data]  # fmt: skip
    dry = bimkit(*arguments, "--dry")
    assert dry.returncode == 0, dry.stderr
    assert "name: kultur-merkezi" in dry.stdout and "10.21.80.0/20" in dry.stdout
    assert not path.exists()
    written = bimkit(*arguments)
    assert written.returncode == 0 and path.is_file()
    assert bimkit("validate", "--data", data).returncode == 0
    again = bimkit(*arguments, "--phones", "3")
    assert again.returncode == 1 and "exists already" in again.stderr
    assert "kultur-merkezi-tel08" in path.read_text()
    forced = bimkit(*arguments, "--phones", "3", "--force")
    assert forced.returncode == 0
    assert "-  - {name: kultur-merkezi-tel08, extension:" in forced.stderr  # the diff first
    assert "kultur-merkezi-tel08" not in path.read_text()
    listed = bimkit("site", "templates", "--data", data)
    assert "unit-small" in listed.stdout and "unit-large" in listed.stdout


def test_a_municipalitys_own_template_in_the_data_folder_is_used(estate_data: EstateData) -> None:
    own = estate_data.root / "templates" / "site"
    own.mkdir(parents=True)
    builtin = REPO / "templates" / "site"
    (own / "kiosk.yaml.j2").write_text((builtin / "unit-small.yaml.j2").read_text())
    meta = (
        (builtin / "unit-small.meta.yaml")
        .read_text()
        .replace("switch_ports: 24", "switch_ports: 8")
    )
    (own / "kiosk.meta.yaml").write_text(meta.replace("default: 8,", "default: 3,"))
    assert "kiosk" in sites.site_templates(estate_data.root)
    made = make(root=estate_data.root, template="kiosk", phones=2)
    assert "kultur-merkezi-ws03" in made.text and "kultur-merkezi-ws04" not in made.text
    assert "{first: 8, last: 8, use: uplink}" in made.text
    with pytest.raises(sites.SiteRefused, match="has 7 access ports; 8 are asked for"):
        make(root=estate_data.root, template="kiosk", workstations=6, phones=2)


def test_host_names_may_start_with_a_shorter_prefix_as_older_sites_do() -> None:
    estate = load_estate(REPO)
    made = sites.new_site(REPO, estate, "kultur-merkezi", 5, "Kültür Merkezi", "unit-small",
                          {"phones": 1}, prefix="Kültür")  # fmt: skip
    assert "  - name: kultur-sw1\n" in made.text and "{name: kultur-tel01," in made.text
    assert "kultur-ws08" in made.estate.hosts
    with pytest.raises(sites.SiteRefused, match="a site `zabita` exists already"):
        sites.new_site(REPO, estate, "zabita", 9, "x", "unit-small", {})
    with pytest.raises(sites.SiteRefused, match="would break the estate"):
        sites.new_site(REPO, estate, "yeni", 9, "x", "unit-small", {}, prefix="zabita")


def test_the_departments_housed_there_sign_in_at_its_desks() -> None:
    """`--department` names who works in the building; an unknown one is refused by name."""
    estate = load_estate(REPO)
    made = sites.new_site(REPO, estate, "kultur-merkezi", 5, "Kültür Merkezi", "unit-small", {},
                          departments=["kultur-sosyal"])  # fmt: skip
    assert "departments: [kultur-sosyal]\n" in made.text
    assert made.estate.sites["kultur-merkezi"].departments == ("kultur-sosyal",)
    bare = sites.new_site(REPO, estate, "kultur-merkezi", 5, "Kültür Merkezi", "unit-small", {})
    assert "# departments: [" in bare.text and not bare.estate.sites["kultur-merkezi"].departments
    with pytest.raises(sites.SiteRefused, match="`kutuphane` is not a department"):
        sites.new_site(REPO, estate, "kultur-merkezi", 5, "x", "unit-small", {},
                       departments=["kutuphane"])  # fmt: skip
