"""roles/domain_controller: provisioning and client settings, without a host."""

from __future__ import annotations

import shlex

from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from roles.domain_controller.plan import (
    HELPER,
    PASSWORD_FILE,
    SAM_LDB,
    join_command,
    krb5_conf,
    provision_command,
    resolv_conf,
    wait_for_primary_command,
)
from tests.conftest import REPO

DATA = {
    name: data for entries in plan_inventory(load_estate(REPO)).values() for name, data in entries
}


def test_provisioning_takes_the_password_from_a_root_only_file_not_argv() -> None:
    command = provision_command(DATA["dc1"])
    words = shlex.split(command.split("&& ", 3)[-1])
    assert words[:3] == [HELPER, PASSWORD_FILE, "--adminpass"]
    assert not [w for w in words if w.startswith("--adminpass=")]
    assert "--realm=AD.KAYAPINAR.BEL.TR" in words and "--domain=KAYAPINAR" in words
    assert "--host-ip=10.21.17.10" in words
    assert "--option=dns forwarder = 195.175.39.39 195.175.39.40" in words


def test_provisioning_refuses_when_a_domain_database_exists() -> None:
    assert provision_command(DATA["dc1"]).startswith(f"test ! -e {SAM_LDB} && ")


def test_kerberos_realm_is_the_upper_case_dns_realm() -> None:
    conf = krb5_conf(DATA["dc1"])
    assert "default_realm = AD.KAYAPINAR.BEL.TR" in conf
    assert ".ad.kayapinar.bel.tr = AD.KAYAPINAR.BEL.TR" in conf


def test_a_dc_resolves_through_itself_then_the_other_dcs() -> None:
    conf = resolv_conf(DATA["dc1"])
    assert "search ad.kayapinar.bel.tr\n" in conf and "options timeout:1 attempts:2\n" in conf
    assert conf.endswith("nameserver 127.0.0.1\nnameserver 10.21.33.10\n")
    assert "nameserver 10.21.17.10" in resolv_conf(DATA["dc2"])


def test_joining_waits_for_the_primary_and_passes_the_password_in_the_environment() -> None:
    wait = wait_for_primary_command(DATA["dc2"])
    assert wait.startswith("timeout 120 bash -c ")
    assert "/dev/tcp/10.21.17.10/389" in wait
    assert "until host -t SRV _ldap._tcp.ad.kayapinar.bel.tr 10.21.17.10" in wait
    command = join_command(DATA["dc2"])
    join = shlex.split(command.split("&& { ", 1)[1].split(" ||", 1)[0])
    assert join[:3] == [HELPER, PASSWORD_FILE, "PASSWD"]
    assert join[3:7] == ["domain", "join", "ad.kayapinar.bel.tr", "DC"]
    assert "--server=10.21.17.10" in join
    assert not [word for word in join if word.startswith(("--password", "--adminpass", "-U="))]
    assert "%" not in join[join.index("-U") + 1]  # no user%password


def test_a_failed_join_is_rolled_back_so_the_next_run_retries() -> None:
    command = join_command(DATA["dc2"])
    assert command.startswith(f"test ! -e {SAM_LDB} && ")
    assert (
        "|| { status=$?; rm -rf /var/lib/samba/private/* /etc/samba/smb.conf; exit $status; }"
        in command
    )
