"""roles/base: what each host gets, computed from inventory data without a host."""

from __future__ import annotations

from typing import Any

import pytest

from bimkit.tls import client_tls
from roles.base.plan import (
    APT_PROXY,
    CHRONY_CONTAINER,
    FORWARD_KEY,
    SYSLOG_FORWARD,
    BaseVars,
    log_collectors,
    plan_base,
)
from roles.templates import HEADER
from tests.conftest import example_host_data

DATA = example_host_data()


TLS = client_tls("test secret", "Kayapınar Belediyesi", "fs1.ad.kayapinar.bel.tr")


def data(name: str, **changes: Any) -> dict[str, Any]:
    return {**DATA[name], **changes}


def test_workstations_follow_both_dcs_for_time() -> None:
    plan = plan_base("zabita-ws01", data("zabita-ws01"), False, TLS)
    assert "server 10.21.17.10 iburst\nserver 10.21.33.10 iburst\n" in plan.chrony.content


def test_primary_dc_follows_upstream_and_the_other_dc_not_itself() -> None:
    chrony = plan_base("dc1", data("dc1"), False, TLS).chrony.content
    assert "server 0.tr.pool.ntp.org iburst" in chrony
    assert "server 10.21.33.10 iburst" in chrony
    assert "10.21.17.10" not in chrony


def test_members_resolve_through_the_dcs_and_a_dc_through_itself_first() -> None:
    member = plan_base(
        "zabita-ws01", data("zabita-ws01"), in_container=False, forward_tls=TLS
    ).resolv.content
    assert "search ad.kayapinar.bel.tr\n" in member and "options timeout:1 attempts:2\n" in member
    assert member.endswith("nameserver 10.21.17.10\nnameserver 10.21.33.10\n")
    dc2 = plan_base("dc2", data("dc2"), False, TLS).resolv.content
    assert dc2.endswith("nameserver 127.0.0.1\nnameserver 10.21.17.10\n")


def test_log_server_does_not_forward_to_itself() -> None:
    assert log_collectors(data("log1")) == []
    plan = plan_base("log1", data("log1"), in_container=False, forward_tls=None)
    assert plan.syslog_forward is None and SYSLOG_FORWARD in plan.absent
    assert plan.forward_tls == ()


def test_hosts_forward_over_tls_to_the_collector_named_in_its_certificate() -> None:
    assert log_collectors(data("fs1")) == [
        {"address": "10.21.17.12", "fqdn": "log1.ad.kayapinar.bel.tr"}
    ]
    plan = plan_base("fs1", data("fs1"), False, TLS)
    assert plan.syslog_forward is not None
    forward = plan.syslog_forward.content
    assert 'target="10.21.17.12" port="6514" protocol="tcp"' in forward
    assert 'StreamDriverMode="1" StreamDriverAuthMode="x509/name"' in forward
    assert 'StreamDriverPermittedPeers="log1.ad.kayapinar.bel.tr"' in forward
    key = next(f for f in plan.forward_tls if f.path == FORWARD_KEY)
    assert key.mode == "600" and key.private  # type: ignore[union-attr]


def test_apt_proxy_file_only_when_the_estate_has_a_proxy() -> None:
    assert plan_base("fs1", data("fs1"), False, TLS).apt_proxy is None
    assert APT_PROXY in plan_base("fs1", data("fs1"), False, TLS).absent
    proxied = plan_base("fs1", data("fs1", apt_proxy="http://10.21.17.1:3152"), False, TLS)
    assert proxied.apt_proxy is not None
    assert proxied.apt_proxy.content.endswith('Acquire::http::Proxy "http://10.21.17.1:3152";\n')


def test_chrony_keeps_time_without_setting_the_clock_only_in_containers() -> None:
    assert plan_base("fs1", data("fs1"), False, TLS).chrony_container is None
    dropin = plan_base("fs1", data("fs1"), True, TLS).chrony_container
    assert dropin is not None and "chronyd -n -x" in dropin.content
    assert CHRONY_CONTAINER not in plan_base("fs1", data("fs1"), True, TLS).absent


def test_etc_hosts_lists_the_estate_but_not_the_host_twice() -> None:
    hosts = plan_base("fs1", data("fs1"), False, TLS).hosts.content
    assert "\n10.21.17.11\tfs1.ad.kayapinar.bel.tr fs1\n" in hosts
    assert "127.0.1.1\t" not in hosts
    assert "10.21.17.10\tdc1.ad.kayapinar.bel.tr dc1\n" in hosts
    assert hosts.count("\tfs1.ad") == 1


def test_sudoers_for_the_admin_group_is_read_only() -> None:
    sudoers = plan_base("fs1", data("fs1"), False, TLS).sudoers
    assert (sudoers.path, sudoers.mode) == ("/etc/sudoers.d/bim-admins", "440")
    assert sudoers.content.endswith("%bim-admins ALL=(ALL:ALL) ALL\n")


def test_tunables_can_be_overridden_by_host_data() -> None:
    plan = plan_base("fs1", data("fs1", admin_group="sistem", ssh_max_auth_tries=5), False, TLS)
    assert plan.sudoers.path == "/etc/sudoers.d/sistem"
    assert "MaxAuthTries 5\n" in plan.sshd.content
    assert BaseVars.from_data({}).admin_group == "bim-admins"


def test_every_managed_file_says_it_is_managed() -> None:
    plan = plan_base("fs1", data("fs1", apt_proxy="http://x:1"), True, TLS)
    files = [
        plan.apt_proxy,
        plan.hosts,
        plan.resolv,
        plan.chrony,
        plan.chrony_container,
        plan.auto_upgrades,
        plan.syslog_forward,
        plan.sshd,
        plan.sudoers,
    ]
    for managed in files:
        assert managed is not None and HEADER in managed.content.splitlines()[0], managed.path


def test_rendering_is_deterministic() -> None:
    assert plan_base("fs1", data("fs1"), True, TLS) == plan_base("fs1", data("fs1"), True, TLS)


def test_missing_data_is_an_error_not_an_empty_value() -> None:
    broken = data("fs1")
    del broken["realm"]
    with pytest.raises(KeyError):
        plan_base("fs1", broken, False, TLS)
