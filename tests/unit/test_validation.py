"""Every validation rule, shown failing: the problem names its file, its path and the rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bimkit.errors import EstateInvalid
from bimkit.model.load import load_estate
from tests.conftest import EstateData

Change = Callable[[Any], None]


def problems_of(root: Path) -> list[str]:
    with pytest.raises(EstateInvalid) as caught:
        load_estate(root)
    return [str(problem) for problem in caught.value.problems]


def assert_reported(problems: list[str], file: str, path: str, message: str) -> None:
    prefix = f"{file}: {path}: " if path else f"{file}: "
    matching = [
        p for p in problems if p.startswith(prefix) and re.search(message, p[len(prefix) :])
    ]
    assert matching, f"no `{prefix}{message}` among:\n" + "\n".join(problems)


def setter(*keys: Any, value: Any) -> Change:
    def change(document: Any) -> None:
        for key in keys[:-1]:
            document = document[key]
        document[keys[-1]] = value

    return change


def appender(*keys: Any, value: Any) -> Change:
    def change(document: Any) -> None:
        for key in keys:
            document = document[key]
        document.append(value)

    return change


def deleter(*keys: Any) -> Change:
    def change(document: Any) -> None:
        for key in keys[:-1]:
            document = document[key]
        del document[keys[-1]]

    return change


def steps(*changes: Change) -> Change:
    def change(document: Any) -> None:
        for each in changes:
            each(document)

    return change


def roles(site_index: int, roles: list[str]) -> Change:
    return setter("hosts", site_index, "roles", value=roles)


CASES: list[tuple[str, str, Change, str, str, str]] = [
    # id, file changed, change, file reported, path reported, message (regex)
    (
        "manager-who-is-no-person",
        "directory/departments.yaml",
        setter("departments", 0, "managers", value=["9999"]),
        "directory/departments.yaml",
        "departments[0].managers[0]",
        r"`9999` is no person of directory/people.yaml",
    ),
    (
        "manager-of-another-mudurluk",
        "directory/departments.yaml",
        setter("departments", 0, "managers", value=["1101"]),
        "directory/departments.yaml",
        "departments[0].managers[0]",
        r"`1101` works in `zabita`, not in `bilgi-islem` or its units",
    ),
    (
        "managers-on-a-unit",
        "directory/departments.yaml",
        setter("departments", 1, "managers", value=["1004"]),
        "directory/departments.yaml",
        "departments[1].managers[0]",
        r"`yazilim` is a unit: managers belong to its müdürlük",
    ),
    (
        "group-named-like-a-managers-group",
        "directory/groups.yaml",
        appender("groups", value={"name": "zabita-yonetim"}),
        "directory/groups.yaml",
        "groups[4].name",
        r"`zabita-yonetim` is the name of a müdürlük's managers' group",
    ),
    (
        "log-retention-in-days-is-retired",
        "estate.yaml",
        setter("logs", "retention_days", value=730),
        "estate.yaml",
        "logs.retention_days",
        r"replaced by `retention_years` \(calendar years, two at least\)",
    ),
    (
        "log-retention-under-two-years",
        "estate.yaml",
        setter("logs", "retention_years", value=1),
        "estate.yaml",
        "logs.retention_years",
        r"greater than or equal to 2",
    ),
    (
        "a-fixed-tsa-header-is-retired",
        "estate.yaml",
        setter("logs", "tsa", "header", value="identity"),
        "estate.yaml",
        "logs.tsa.header",
        r"replaced by `identity: true` \(Kamu SM's header, made for each request",
    ),
    (
        "s3-repository-without-bucket",
        "estate.yaml",
        setter("dr_repository", value="s3"),
        "estate.yaml",
        "dr_s3",
        r"dr_repository is s3 but no dr_s3 section",
    ),
    (
        "lockout-window-longer-than-lockout",
        "estate.yaml",
        setter("password_policy", value={"lockout_minutes": 10, "lockout_window_minutes": 15}),
        "estate.yaml",
        "password_policy.lockout_window_minutes",
        r"lockout window \(15 min\) must not be longer than the lockout itself \(10 min\)",
    ),
    (
        "password-expires-before-it-may-change",
        "estate.yaml",
        setter("password_policy", value={"min_age_days": 5, "max_age_days": 5}),
        "estate.yaml",
        "password_policy.max_age_days",
        r"passwords would expire \(5 days\) before they may be changed \(5 days\)",
    ),
    (
        "password-policy-too-short",
        "estate.yaml",
        setter("password_policy", value={"min_length": 6}),
        "estate.yaml",
        "password_policy.min_length",
        r"greater than or equal to 8",
    ),
    (
        "vlan-subnet-outside-supernet",
        "sites/zabita.yaml",
        setter("vlans", 3, "subnet", value="192.168.7.0/24"),
        "sites/zabita.yaml",
        "vlans[3].subnet",
        r"192\.168\.7\.0/24 lies outside the supernet",
    ),
    (
        "vlan-subnet-outside-site-block",
        "sites/zabita.yaml",
        setter("vlans", 3, "subnet", value="10.21.200.0/24"),
        "sites/zabita.yaml",
        "vlans[3].subnet",
        r"outside the site's block 10\.21\.48\.0/20",
    ),
    (
        "vlan-subnets-overlap",
        "sites/zabita.yaml",
        setter("vlans", 3, "subnet", value="10.21.51.0/24"),
        "sites/zabita.yaml",
        "vlans[3].subnet",
        r"overlaps 10\.21\.50\.0/23 \(vlans\[1\]\)",
    ),
    (
        "site-numbers-overlap",
        "sites/zabita.yaml",
        setter("number", value=1),
        "sites/zabita.yaml",
        "number",
        r"site number 1 is used twice \(first at sites/",
    ),
    (
        "site-blocks-overlap-across-files",
        "sites/zabita.yaml",
        setter("number", value=1),
        "sites/zabita.yaml",
        "vlans[0].subnet",
        r"overlaps 10\.21\.16\.0/24 \(sites/",
    ),
    (
        "site-number-beyond-supernet",
        "sites/zabita.yaml",
        setter("number", value=16),
        "sites/zabita.yaml",
        "number",
        r"site number 16 is outside the supernet 10\.21\.0\.0/16",
    ),
    (
        "vlan-id-twice",
        "sites/zabita.yaml",
        setter("vlans", 2, "id", value=30),
        "sites/zabita.yaml",
        "vlans[2].id",
        r"^VLAN 30 is used twice \(first at vlans\[1\]\.id\)",
    ),
    (
        "vlan-kind-twice",
        "sites/zabita.yaml",
        setter("vlans", 2, "kind", value="data"),
        "sites/zabita.yaml",
        "vlans[2].kind",
        r"VLAN kind `data` is listed twice",
    ),
    (
        "gateway-outside-subnet",
        "sites/zabita.yaml",
        setter("vlans", 1, "gateway", value="10.21.60.1"),
        "sites/zabita.yaml",
        "vlans[1].gateway",
        r"10\.21\.60\.1 is not a host address of",
    ),
    (
        "plan-overlap",
        "estate.yaml",
        setter("vlan_plan", 1, "index", value=0),
        "estate.yaml",
        "vlan_plan[1]",
        r"servers subnet 10\.21\.0\.0/24 overlaps vlan_plan\[0\]",
    ),
    (
        "plan-kind-twice",
        "estate.yaml",
        setter("vlan_plan", 5, "kind", value="voice"),
        "estate.yaml",
        "vlan_plan[5].kind",
        r"VLAN kind `voice` is used twice",
    ),
    (
        "plan-id-twice",
        "estate.yaml",
        setter("vlan_plan", 5, "id", value=10),
        "estate.yaml",
        "vlan_plan[5].id",
        r"VLAN 10 is used twice",
    ),
    (
        "plan-beyond-block",
        "estate.yaml",
        setter("vlan_plan", 5, "index", value=9),
        "estate.yaml",
        "vlan_plan[5]",
        r"guests subnet number 9 does not fit",
    ),
    (
        "site-prefix-larger-than-supernet",
        "estate.yaml",
        setter("site_prefix_length", value=12),
        "estate.yaml",
        "site_prefix_length",
        r"larger than the supernet",
    ),
    (
        "host-address-outside-subnet",
        "sites/zabita.yaml",
        setter("hosts", 1, "address", value="10.21.17.5"),
        "sites/zabita.yaml",
        "hosts[1].address",
        r"`zabita-ws01`: 10\.21\.17\.5 is not a host address of its data subnet 10\.21\.50\.0/23",
    ),
    (
        "host-number-beyond-subnet",
        "sites/merkez.yaml",
        setter("hosts", 1, "address", value=255),
        "sites/merkez.yaml",
        "hosts[1].address",
        r"`dc1`: host number 255 does not fit",
    ),
    (
        "host-address-is-gateway",
        "sites/merkez.yaml",
        setter("hosts", 1, "address", value=1),
        "sites/merkez.yaml",
        "hosts[1].address",
        r"`dc1`: 10\.21\.17\.1 is the servers VLAN's gateway",
    ),
    (
        "host-address-twice",
        "sites/zabita.yaml",
        setter("hosts", 2, "address", value=11),
        "sites/zabita.yaml",
        "hosts[2].address",
        r"address 10\.21\.50\.11 is used twice",
    ),
    (
        "host-vlan-missing-at-site",
        "sites/zabita.yaml",
        setter("hosts", 1, "vlan", value="guests"),
        "sites/zabita.yaml",
        "hosts[1].vlan",
        r"site `zabita` has no `guests` VLAN",
    ),
    (
        "host-name-twice-across-files",
        "sites/zabita.yaml",
        setter("hosts", 1, "name", value="dc1"),
        "sites/zabita.yaml",
        "hosts[1].name",
        r"host name `dc1` is used twice \(first at sites/merkez\.yaml: hosts\[1\]\.name\)",
    ),
    (
        "host-mac-equals-phone-mac",
        "sites/zabita.yaml",
        setter("hosts", 1, "mac", value="00:15:65:A1:00:01"),
        "directory/people.yaml",
        "people[0].phone_mac",
        r"MAC address 00:15:65:a1:00:01 is used twice \(first at sites/zabita\.yaml",
    ),
    (
        "no-primary-dc",
        "sites/merkez.yaml",
        roles(1, ["file_server"]),
        "estate.yaml",
        "realm",
        r"has no primary DC: exactly one host needs the `primary_dc` role",
    ),
    (
        "two-primary-dcs",
        "sites/merkez.yaml",
        roles(2, ["primary_dc"]),
        "sites/merkez.yaml",
        "hosts[2].roles",
        r"`fs1` is a second primary DC .* the first is `dc1`",
    ),
    (
        "primary-and-additional",
        "sites/merkez.yaml",
        roles(1, ["primary_dc", "additional_dc"]),
        "sites/merkez.yaml",
        "hosts[1].roles",
        r"cannot be both",
    ),
    (
        "no-additional-dc-elsewhere",
        "sites/fkm.yaml",
        roles(1, ["backup_server"]),
        "estate.yaml",
        "realm",
        r"needs at least one `additional_dc` at a site other than `merkez`",
    ),
    (
        "protected-service-without-policy",
        "estate.yaml",
        deleter("backup_policies", "pbx"),
        "sites/merkez.yaml",
        "hosts[4]",
        r"`pbx1` protects service `pbx`, which has no entry",
    ),
    (
        "extra-backup-without-policy",
        "sites/fkm.yaml",
        setter("hosts", 1, "backup", value=["sysvol"]),
        "sites/fkm.yaml",
        "hosts[1]",
        r"`dc2` protects service `sysvol`",
    ),
    (
        "policy-without-rpo",
        "estate.yaml",
        deleter("backup_policies", "logs", "rpo"),
        "estate.yaml",
        "backup_policies.logs.rpo",
        r"is required",
    ),
    (
        "policy-bad-duration",
        "estate.yaml",
        setter("backup_policies", "logs", "rto", value="soon"),
        "estate.yaml",
        "backup_policies.logs.rto",
        r"`soon` is not a duration; write e.g. 30m",
    ),
    (
        "policy-relative-path",
        "estate.yaml",
        setter("backup_policies", "logs", "paths", value=["var/log"]),
        "estate.yaml",
        "backup_policies.logs.paths[0]",
        r"`var/log` is not an absolute path",
    ),
    (
        "dr-site-missing",
        "estate.yaml",
        setter("dr_site", value="yedek"),
        "estate.yaml",
        "dr_site",
        r"site `yedek` does not exist \(no sites/yedek\.yaml\)",
    ),
    (
        "dr-site-is-central",
        "estate.yaml",
        setter("dr_site", value="merkez"),
        "estate.yaml",
        "dr_site",
        r"must not be the central site",
    ),
    (
        "no-backup-server-at-dr-site",
        "sites/fkm.yaml",
        roles(2, ["dr_host"]),
        "estate.yaml",
        "dr_site",
        r"`fkm` has no host with the `backup_server` role",
    ),
    (
        "site-name-differs-from-file",
        "sites/zabita.yaml",
        setter("name", value="zabıta"),
        "sites/zabita.yaml",
        "name",
        r"String should match pattern",
    ),
    (
        "site-name-not-file-name",
        "sites/zabita.yaml",
        setter("name", value="zabita-2"),
        "sites/zabita.yaml",
        "name",
        r"differs from its file name",
    ),
    (
        "switch-role-on-debian",
        "sites/zabita.yaml",
        setter("hosts", 0, "os", value="debian"),
        "sites/zabita.yaml",
        "hosts[0].roles",
        r"the `switch` role and a network-device os",
    ),
    (
        "server-role-on-windows",
        "sites/merkez.yaml",
        setter("hosts", 4, "os", value="windows"),
        "sites/merkez.yaml",
        "hosts[4].roles",
        r"`pbx` need os `debian`, not `windows`",
    ),
    (
        "unknown-field",
        "sites/zabita.yaml",
        setter("hosts", 1, "adress", value=11),
        "sites/zabita.yaml",
        "hosts[1].adress",
        r"unknown field",
    ),
    (
        "unknown-role",
        "sites/zabita.yaml",
        roles(1, ["printer"]),
        "sites/zabita.yaml",
        "hosts[1].roles[0]",
        r"Input should be",
    ),
    (
        "bad-host-address",
        "sites/zabita.yaml",
        setter("hosts", 1, "address", value="10.21.50"),
        "sites/zabita.yaml",
        "hosts[1].address",
        r"neither an IPv4 address nor a host number",
    ),
    (
        "department-unknown",
        "directory/people.yaml",
        setter("people", 3, "department", value="bilgi"),
        "directory/people.yaml",
        "people[3].department",
        r"`bilgi` is not a department",
    ),
    (
        "group-unknown",
        "directory/people.yaml",
        setter("people", 3, "groups", value=["adminler"]),
        "directory/people.yaml",
        "people[3].groups[0]",
        r"group `adminler` is not in",
    ),
    (
        "department-parent-unknown",
        "directory/departments.yaml",
        setter("departments", 1, "parent", value="bim"),
        "directory/departments.yaml",
        "departments[1].parent",
        r"parent `bim` of `yazilim`",
    ),
    (
        "department-cycle",
        "directory/departments.yaml",
        setter("departments", 0, "parent", value="yazilim"),
        "directory/departments.yaml",
        "departments[0].parent",
        r"is its own ancestor",
    ),
    (
        "department-id-twice",
        "directory/departments.yaml",
        setter("departments", 2, "id", value="yazilim"),
        "directory/departments.yaml",
        "departments[2].id",
        r"department id `yazilim` is used twice",
    ),
    (
        "group-named-like-department",
        "directory/groups.yaml",
        appender("groups", value={"name": "zabita"}),
        "directory/groups.yaml",
        "groups[4].name",
        r"has the name of a department",
    ),
    (
        "person-id-twice",
        "directory/people.yaml",
        setter("people", 4, "id", value="1004"),
        "directory/people.yaml",
        "people[4].id",
        r"person id `1004` is used twice",
    ),
    (
        "extension-twice",
        "directory/people.yaml",
        setter("people", 4, "extension", value=2103),
        "directory/people.yaml",
        "people[4].extension",
        r"extension 2103 is used twice \(first at people\[3\]\.extension\)",
    ),
    (
        "phone-mac-twice-in-other-notation",
        "directory/people.yaml",
        setter("people", 4, "phone_mac", value="0015.65A1.0003"),
        "directory/people.yaml",
        "people[4].phone_mac",
        r"MAC address 00:15:65:a1:00:03 is used twice",
    ),
    (
        "phone-mac-malformed",
        "directory/people.yaml",
        setter("people", 4, "phone_mac", value="00:15:65:zz:00:03"),
        "directory/people.yaml",
        "people[4].phone_mac",
        r"is not a MAC address",
    ),
    (
        "phone-without-extension",
        "directory/people.yaml",
        setter("people", 17, "phone_mac", value="00:15:65:e0:00:01"),
        "directory/people.yaml",
        "people[17].phone_mac",
        r"a phone needs an extension",
    ),
    (
        "extension-range-reversed",
        "sites/zabita.yaml",
        setter("extensions", value={"first": 3199, "last": 3100}),
        "sites/zabita.yaml",
        "extensions",
        r"last extension 3100 comes before first 3199",
    ),
    (
        "phone-outside-the-sites-range",
        "sites/zabita.yaml",
        steps(
            setter("extensions", value={"first": 3100, "last": 3199}),
            setter("phones", value=[{"name": "zabita-tel01", "extension": 3300}]),
        ),
        "sites/zabita.yaml",
        "phones[0].extension",
        r"extension 3300 lies outside the site's range 3100-3199",
    ),
    (
        "phones-without-a-range",
        "sites/zabita.yaml",
        steps(
            lambda document: document.pop("extensions"),
            setter("phones", value=[{"name": "zabita-tel01", "extension": 3150}]),
        ),
        "sites/zabita.yaml",
        "phones[0].extension",
        r"the site has phones but no `extensions` range",
    ),
    (
        "phone-with-a-persons-extension",
        "sites/zabita.yaml",
        steps(
            setter("extensions", value={"first": 2100, "last": 2199}),
            setter("phones", value=[{"name": "zabita-tel01", "extension": 2100}]),
        ),
        "sites/zabita.yaml",
        "phones[0].extension",
        r"extension 2100 is used twice \(first at directory/people.yaml: people\[0\]",
    ),
    (
        "phone-named-like-a-host",
        "sites/zabita.yaml",
        steps(
            setter("extensions", value={"first": 3100, "last": 3199}),
            setter("phones", value=[{"name": "zabita-ws01", "extension": 3100}]),
        ),
        "sites/zabita.yaml",
        "phones[0].name",
        r"phone `zabita-ws01` has the name of a host",
    ),
    (
        "port-plan-on-a-workstation",
        "sites/zabita.yaml",
        setter("hosts", 1, "ports", value=[{"first": 1, "last": 4, "use": "workstation"}]),
        "sites/zabita.yaml",
        "hosts[1].ports",
        r"host `zabita-ws01` is not a switch: only switches have a port plan",
    ),
    (
        "switch-ports-planned-twice",
        "sites/zabita.yaml",
        setter(
            "hosts",
            0,
            "ports",
            value=[
                {"first": 1, "last": 10, "use": "workstation"},
                {"first": 8, "last": 12, "use": "phone"},
            ],
        ),
        "sites/zabita.yaml",
        "hosts[0].ports[1]",
        r"port 8 of `zabita-sw1` is also in hosts\[0\]\.ports\[0\]",
    ),
    (
        "port-range-reversed",
        "sites/zabita.yaml",
        setter("hosts", 0, "ports", value=[{"first": 10, "last": 2, "use": "uplink"}]),
        "sites/zabita.yaml",
        "hosts[0].ports[0]",
        r"last port 2 comes before first port 10",
    ),
    (
        "explicit-username-twice",
        "directory/people.yaml",
        setter("people", 4, "username", value="sukru.caglayan"),
        "directory/people.yaml",
        "people[4].username",
        r"was given to another person \(id 1001\)",
    ),
    (
        "recorded-username-twice",
        "directory/usernames.yaml",
        setter("usernames", "1005", value="mehmet.yilmaz"),
        "directory/usernames.yaml",
        "usernames.1005",
        r"recorded username `mehmet.yilmaz` is used twice",
    ),
    (
        "username-too-long",
        "directory/people.yaml",
        setter("people", 4, "username", value="a" * 21),
        "directory/people.yaml",
        "people[4].username",
        r"String should match pattern",
    ),
    (
        "name-without-letters",
        "directory/people.yaml",
        appender(
            "people",
            value={"id": "2001", "given_name": "—", "family_name": "Kaya", "department": "zabita"},
        ),
        "directory/people.yaml",
        "people[40]",
        r"a name has no letters",
    ),
]


@pytest.mark.parametrize(
    ("changed", "change", "file", "path", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_is_reported_with_file_and_path(
    estate_data: EstateData, changed: str, change: Change, file: str, path: str, message: str
) -> None:
    estate_data.edit(changed, change)
    assert_reported(problems_of(estate_data.root), file, path, message)


def test_explicit_username_of_a_person_who_left_is_refused(estate_data: EstateData) -> None:
    estate_data.edit("directory/usernames.yaml", setter("usernames", "900", value="eski.personel"))
    estate_data.edit(
        "directory/people.yaml", setter("people", 4, "username", value="eski.personel")
    )
    assert_reported(
        problems_of(estate_data.root),
        "directory/people.yaml",
        "people[4].username",
        r"was given to a person who has left \(id 900\); usernames are never reused",
    )


def test_example_estate_is_valid() -> None:
    estate = load_estate(Path(__file__).resolve().parents[2])
    assert estate.new_usernames == {}
    assert len(estate.members) >= 40


def test_all_problems_in_all_files_are_reported_at_once(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("vlans", 2, "id", value=30))
    estate_data.edit("sites/fen-isleri.yaml", setter("hosts", 1, "address", value=999))
    estate_data.edit("directory/people.yaml", setter("people", 4, "extension", value=2103))
    estate_data.edit("estate.yaml", setter("dr_site", value="merkez"))
    problems = problems_of(estate_data.root)
    assert_reported(problems, "sites/zabita.yaml", "vlans[2].id", "VLAN 30 is used twice")
    assert_reported(problems, "sites/fen-isleri.yaml", "hosts[1].address", "does not fit")
    assert_reported(problems, "directory/people.yaml", "people[4].extension", "used twice")
    assert_reported(problems, "estate.yaml", "dr_site", "must not be the central site")


def test_structural_errors_in_several_files_are_reported_together(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("number", value="üç"))
    estate_data.edit("directory/people.yaml", setter("people", 0, "active", value="belki"))
    problems = problems_of(estate_data.root)
    assert_reported(problems, "sites/zabita.yaml", "number", "valid integer")
    assert_reported(problems, "directory/people.yaml", "people[0].active", "valid boolean")


def test_yaml_syntax_error_names_the_line(estate_data: EstateData) -> None:
    path = estate_data.root / "sites/zabita.yaml"
    path.write_text("name: zabita\nnumber: 3\nvlans: [\n  {kind: data\n", encoding="utf-8")
    assert_reported(problems_of(estate_data.root), "sites/zabita.yaml", "", r"line \d+: YAML error")


def test_a_key_given_twice_is_refused_not_silently_overwritten(estate_data: EstateData) -> None:
    path = estate_data.root / "sites/zabita.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "number: 9\n", encoding="utf-8")
    assert_reported(
        problems_of(estate_data.root),
        "sites/zabita.yaml",
        "",
        r"line \d+: YAML error: key `number` is given twice",
    )


def test_an_empty_file_is_reported(estate_data: EstateData) -> None:
    (estate_data.root / "sites/zabita.yaml").write_text("", encoding="utf-8")
    assert_reported(problems_of(estate_data.root), "sites/zabita.yaml", "", "the file is empty")


def test_a_missing_estate_file_is_reported(estate_data: EstateData) -> None:
    (estate_data.root / "estate.yaml").unlink()
    assert_reported(problems_of(estate_data.root), "estate.yaml", "", "cannot read")


def test_secret_looking_names_in_group_data_are_refused(estate_data: EstateData) -> None:
    (estate_data.root / "group_data/domain_controllers.py").write_text(
        'ad_admin_password = "x"\nsamba_log_level: int = 1\n', encoding="utf-8"
    )
    problems = problems_of(estate_data.root)
    assert_reported(
        problems, "group_data/domain_controllers.py", "ad_admin_password", "looks like a secret"
    )
    assert not any("samba_log_level" in problem for problem in problems)


def test_group_data_is_parsed_not_executed(estate_data: EstateData, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (estate_data.root / "group_data/evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\n", encoding="utf-8"
    )
    load_estate(estate_data.root)
    assert not marker.exists()


def test_directory_problems_are_reported_even_when_estate_yaml_is_broken(
    estate_data: EstateData,
) -> None:
    estate_data.edit("estate.yaml", setter("supernet", value="10.21.0.0/33"))
    estate_data.edit("directory/people.yaml", setter("people", 4, "extension", value=2103))
    problems = problems_of(estate_data.root)
    assert_reported(problems, "estate.yaml", "supernet", "IPv4")
    assert_reported(problems, "directory/people.yaml", "people[4].extension", "used twice")


def test_extension_ranges_of_two_sites_must_not_overlap(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("extensions", value={"first": 3100, "last": 3199}))
    estate_data.edit(
        "sites/fen-isleri.yaml", setter("extensions", value={"first": 3150, "last": 3250})
    )
    assert_reported(
        problems_of(estate_data.root),
        "sites/zabita.yaml",
        "extensions",
        r"extensions 3100-3199 overlap 3150-3250 \(sites/fen-isleri.yaml: extensions\)",
    )
