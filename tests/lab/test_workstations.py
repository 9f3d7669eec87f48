"""Staff workstations on the lab: real realmd/adcli joins to the lab's Samba DCs, real sssd
sign-in over SSH (paramiko, a password as a person types it)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import paramiko
import pytest

from bimkit.directory import computer_ou
from bimkit.model.schema import OsFamily, Role
from tests.lab.conftest import BIN, DeployTotals, run, totals
from tests.lab.test_backups import ESTATE, on

REALM = ESTATE.config.realm
WORKSTATIONS = sorted(
    host.name for host in ESTATE.hosts_with(Role.workstation) if host.os is OsFamily.debian
)
"""The Linux ones: a Windows workstation (fen-ws03) would join over WinRM, not built."""
STAFF = "dilan.ekinci"  # Fen İşleri
ADMIN = "sukru.caglayan"  # bim-admins
INACTIVE = "umit.kurt"  # `active: false` in people.yaml


def address(host: str) -> str:
    return str(ESTATE.hosts[host].address)


@pytest.fixture(scope="module")
def joined(first_deploy: DeployTotals) -> None:
    """deploys/site.py joined the workstations (deploys/workstations.py, included)."""


@pytest.fixture(scope="module")
def passwords(joined: None) -> Iterator[dict[str, str]]:
    """The hand-over passwords, changed as a person does at first sign-in (set on dc1)."""
    chosen = {user: secrets.token_urlsafe(12) + "aA1!" for user in (STAFF, ADMIN, INACTIVE)}
    for user, password in chosen.items():
        on("dc1", f"samba-tool user setpassword {user} --newpassword='{password}' >/dev/null")
    # samba-tool's setpassword also enables the account: the leaver is disabled again, as
    # the directory step of the next deploy would do.
    on("dc1", f"samba-tool user disable {INACTIVE} >/dev/null")
    yield chosen


def sign_in(host: str, user: str, password: str, command: str) -> str:
    """SSH to the workstation as `user` with `password`; the command's output."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # lab machines only
    try:
        client.connect(address(host), username=user, password=password, timeout=20,
                       allow_agent=False, look_for_keys=False)  # fmt: skip
        # A new session waits while the user's previous systemd manager stops, which in a
        # lab machine (hybrid cgroups) can take its full 30 s stop timeout.
        _, stdout, _ = client.exec_command(command, timeout=90)
        return stdout.read().decode().strip()
    finally:
        client.close()


def test_every_workstation_of_the_estate_is_joined_into_its_sites_ou(joined: None) -> None:
    for host in WORKSTATIONS:
        assert on(host, f"adcli testjoin --domain={REALM} >/dev/null && echo ok") == "ok", host
        site = ESTATE.hosts[host].site
        dn = on("dc1", f"ldbsearch -H /var/lib/samba/private/sam.ldb "
                       f"'(sAMAccountName={host.upper()}$)' dn | sed -n 's/^dn: //p'")  # fmt: skip
        assert dn == f"CN={host.upper()},{computer_ou(REALM, site)}", host


def test_a_person_signs_in_with_their_ad_password_at_two_sites(
    passwords: dict[str, str],
) -> None:
    for host in ("fen-ws01", "zabita-ws01"):
        shown = sign_in(
            host, STAFF, passwords[STAFF], "id -un; echo $HOME; test -d $HOME && echo home"
        )
        assert shown.splitlines() == [STAFF, f"/home/{STAFF}", "home"], (host, shown)
    # The same uid on both: sssd maps it from the account's SID.
    uids = {on(host, f"id -u {STAFF}") for host in ("fen-ws01", "zabita-ws01")}
    assert len(uids) == 1, uids


def test_a_wrong_password_and_a_disabled_person_are_refused(passwords: dict[str, str]) -> None:
    for user, password in ((STAFF, "not-the-password"), (INACTIVE, passwords[INACTIVE])):
        with pytest.raises(paramiko.AuthenticationException):
            sign_in("zabita-ws01", user, password, "true")


def test_the_admins_ad_group_may_use_sudo_and_staff_may_not(passwords: dict[str, str]) -> None:
    assert "(ALL : ALL) ALL" in on("zabita-ws01", f"sudo -l -U {ADMIN}")
    assert "not allowed to run sudo" in on("zabita-ws01", f"sudo -l -U {STAFF}")


def test_the_banner_is_shown_before_sign_in(joined: None) -> None:
    transport = paramiko.Transport((address("fen-ws01"), 22))
    try:
        transport.start_client(timeout=20)
        with contextlib.suppress(paramiko.BadAuthenticationType):
            transport.auth_none("nobody")
        banner = transport.get_banner() or b""
    finally:
        transport.close()
    assert ESTATE.config.municipality in banner.decode(), banner


def test_a_workstation_whose_computer_account_was_deleted_is_joined_again(joined: None) -> None:
    host = "zabita-ws02"
    on("dc1", f"samba-tool computer delete {host.upper()} >/dev/null")
    assert on(
        host, f"adcli testjoin --domain={REALM} >/dev/null 2>&1 && echo ok || echo broken"
    ) == ("broken")
    env = {"BIMKIT_LAB": "1"}
    run(str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y", "--limit", host,
        env=env)  # fmt: skip
    assert on(host, f"adcli testjoin --domain={REALM} >/dev/null && echo ok") == "ok"
    again = run(str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y",
                "--limit", host, env=env)  # fmt: skip
    done = totals(again.stdout + again.stderr)
    assert done.changed == 0, done.changed_operations
