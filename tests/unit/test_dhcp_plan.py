"""Address assignment: Kea's configuration on the DCs from the estate, and the lease log line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from dr.logs.leases import parse_line
from roles.dhcp_server.files import bimkit_dhcp_lease as lease_hook
from roles.dhcp_server.files.bimkit_dhcp_lease import lines
from roles.dhcp_server.plan import (
    LEASE_CHANNEL_CONF,
    LEASE_EVENTS,
    LEASE_EVENTS_DIR,
    LEASE_HOOK,
    kea_config,
    lease_channel,
)
from tests.conftest import REPO, EstateData, example_host_data
from tests.unit.test_validation import assert_reported, problems_of, setter

DATA = example_host_data()


def dhcp4(host: str) -> dict[str, Any]:
    config: dict[str, Any] = kea_config(host, DATA[host], "x86_64")["Dhcp4"]
    return config


def subnets(host: str = "dc1") -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (s["user-context"]["site"], s["user-context"]["vlan"]): s for s in dhcp4(host)["subnet4"]
    }


def test_every_site_data_and_voice_vlan_is_served_and_nothing_else() -> None:
    assert sorted(subnets()) == [
        ("fen-isleri", "data"), ("fen-isleri", "voice"), ("merkez", "data"),
        ("merkez", "voice"), ("zabita", "data"), ("zabita", "voice")]  # fmt: skip
    zabita = subnets()[("zabita", "data")]
    assert (zabita["id"], zabita["subnet"]) == (3030, "10.21.50.0/23")
    # The upper half is the pool; fixed addresses (the workstations' .11, .12) stay below.
    assert zabita["pools"] == [{"pool": "10.21.51.1 - 10.21.51.254"}]
    assert {"name": "routers", "data": "10.21.50.1"} in zabita["option-data"]


def test_options_point_at_the_dcs_and_the_realm() -> None:
    options = {o["name"]: o["data"] for o in dhcp4("dc1")["option-data"]}
    assert options == {
        "domain-name-servers": "10.21.17.10, 10.21.33.10",
        "ntp-servers": "10.21.17.10, 10.21.33.10",
        "domain-name": "ad.kayapinar.bel.tr",
        "domain-search": "ad.kayapinar.bel.tr",
    }


def test_phones_get_the_provisioning_url_on_voice_vlans_only() -> None:
    voice = {o["name"]: o["data"] for o in subnets()[("zabita", "voice")]["option-data"]}
    assert voice["tftp-server-name"] == "http://10.21.17.20/prov/"  # pbx1
    data = {o["name"] for o in subnets()[("zabita", "data")]["option-data"]}
    assert "tftp-server-name" not in data


def test_a_host_with_a_mac_keeps_its_address() -> None:
    assert subnets()[("fen-isleri", "data")]["reservations"] == [
        {"hw-address": "52:54:00:4f:00:13", "ip-address": "10.21.66.13", "hostname": "fen-ws03"}
    ]


def test_the_dcs_are_a_hot_standby_pair_each_naming_itself() -> None:
    def ha(host: str) -> dict[str, Any]:
        hooks = {h["library"].rsplit("/", 1)[1]: h for h in dhcp4(host)["hooks-libraries"]}
        assert hooks["libdhcp_run_script.so"]["parameters"] == {"name": LEASE_HOOK, "sync": False}
        config: dict[str, Any] = hooks["libdhcp_ha.so"]["parameters"]["high-availability"][0]
        return config

    assert ha("dc1")["this-server-name"] == "dc1" and ha("dc2")["this-server-name"] == "dc2"
    assert ha("dc1")["mode"] == "hot-standby"
    assert [(p["name"], p["role"], p["url"]) for p in ha("dc1")["peers"]] == [
        ("dc1", "primary", "http://10.21.17.10:8004/"),
        ("dc2", "standby", "http://10.21.33.10:8004/"),
    ]
    assert all(h["library"].startswith("/usr/lib/x86_64-linux-gnu/kea/hooks/")
               for h in dhcp4("dc1")["hooks-libraries"])  # fmt: skip


def test_a_fixed_address_inside_a_pool_is_refused(estate_data: EstateData) -> None:
    def move_into_pool(document: Any) -> None:
        document["hosts"][1]["address"] = 300  # zabita-ws01: 10.21.51.44, in the pool

    estate_data.edit("sites/zabita.yaml", move_into_pool)
    assert_reported(problems_of(estate_data.root), "sites/zabita.yaml", "hosts[1].address",
                    r"zabita-ws01's address 10\.21\.51\.44 lies in the DHCP pool")  # fmt: skip


def test_the_pool_start_comes_from_the_data(estate_data: EstateData) -> None:
    estate_data.edit("estate.yaml", setter("dhcp", value={"pool_start": 0.25}))
    dc1 = dict(plan_inventory(load_estate(estate_data.root))["linux"])["dc1"]
    pools = {s["id"]: s["pool"] for s in dc1["dhcp"]["subnets"]}
    assert pools[3030] == ("10.21.50.128", "10.21.51.254")


LEASE_ENV = {
    "LEASES4_SIZE": "1",
    "LEASES4_AT0_ADDRESS": "10.21.51.7",
    "LEASES4_AT0_HWADDR": "52:54:00:aa:bb:01",
    "LEASES4_AT0_HOSTNAME": "zabita pc7",
    "LEASES4_AT0_CLTT": "1764849600",
    "LEASES4_AT0_VALID_LIFETIME": "28800",
    "DELETED_LEASES4_SIZE": "0",
}


def test_a_lease_event_is_one_line_that_search_reads_back() -> None:
    (line,) = lines("leases4_committed", LEASE_ENV, now=1764850000)
    assert line == ("event=commit address=10.21.51.7 mac=52:54:00:aa:bb:01 hostname=zabita_pc7 "
                    "start=1764849600 valid=28800")  # fmt: skip
    # As rsyslog's imfile tags it on the DC and the log server files it on the lease channel.
    archived = f"2026-12-04T15:00:00.123456+03:00 dc1 bimkit-dhcp: {line}"
    event = parse_line(archived, "dc1", "2026-12-04/dc1.leases:1")
    assert event is not None and (event.address, event.mac, event.valid, event.server) == (
        "10.21.51.7", "52:54:00:aa:bb:01", 28800, "dc1")  # fmt: skip


def test_the_hook_appends_whole_lines_to_its_own_file_not_to_syslog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lease_hook.EVENTS == LEASE_EVENTS  # the file rsyslog reads on the DC
    events = tmp_path / "leases.log"
    monkeypatch.setattr(lease_hook, "EVENTS", str(events))
    for name, value in LEASE_ENV.items():
        monkeypatch.setenv(name, value)
    assert lease_hook.main(["leases4_committed"]) == 0
    assert lease_hook.main(["leases4_committed"]) == 0
    assert lease_hook.main(["pkt4_receive"]) == 0  # changes no lease: nothing written
    written = events.read_text().splitlines()
    assert len(written) == 2 and all(line.startswith("event=commit address=10.21.51.7 ")
                                     for line in written)  # fmt: skip
    assert events.stat().st_mode & 0o777 == 0o640


def test_a_release_ends_the_lease_at_the_moment_it_happens() -> None:
    env = {"LEASE4_ADDRESS": "10.21.51.7", "LEASE4_HWADDR": "52:54:00:aa:bb:01",
           "LEASE4_CLTT": "1764849600", "LEASE4_VALID_LIFETIME": "28800"}  # fmt: skip
    (line,) = lines("lease4_release", env, now=1764851111)
    assert "event=release" in line and line.endswith("start=1764851111 valid=0")
    assert lines("lease4_renew", env, now=0)[0].startswith("event=commit")
    assert lines("pkt4_receive", env, now=0) == []


def test_the_dcs_send_lease_events_to_the_log_server_alone_on_the_lease_channel() -> None:
    dc1 = dict(plan_inventory(load_estate(REPO))["linux"])["dc1"]
    states = {item.path: item for item in lease_channel(dc1) if hasattr(item, "path")}
    folder = states[LEASE_EVENTS_DIR]
    assert (folder.user, folder.group, folder.mode) == ("_kea", "_kea", "750")
    conf = states[LEASE_CHANNEL_CONF].content
    assert f'input(type="imfile" file="{LEASE_EVENTS}" tag="bimkit-dhcp:"' in conf
    assert 'ruleset="bimkit_lease_channel"' in conf
    assert ('target="10.21.17.12" port="6515" protocol="tcp"\n'
            '         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"\n'
            '         StreamDriverPermittedPeers="log1.ad.kayapinar.bel.tr"') in conf  # fmt: skip
    assert "/dev/log" not in conf.split("# ", 1)[0] and "imuxsock" not in conf
