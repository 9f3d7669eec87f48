"""Joins without the domain's Administrator password: what a member gets (roles/join)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

from pyinfra.api.command import FileUploadCommand, FunctionCommand, StringCommand

from roles.file_server.plan import join_argv as file_server_join
from roles.join import OneTimePassword, one_time_join, ready_account
from roles.workstation.plan import join_argv as workstation_join
from tests.conftest import REPO, example_host_data

DATA = example_host_data()


def test_a_one_time_password_is_fresh_complex_and_never_shown() -> None:
    first, second = OneTimePassword(), OneTimePassword()
    assert first.value != second.value and len(first.value) >= 32
    assert re.search(r"[A-Z]", first.value) and re.search(r"[a-z]", first.value)
    assert re.search(r"[0-9]", first.value) and "-" in first.value
    assert first.value not in repr(first) and repr(first) == "OneTimePassword(***)"


def test_the_dc_readies_the_account_then_the_member_joins_with_only_that_password() -> None:
    data = DATA["zabita-ws02"]
    join = workstation_join("zabita-ws02", data)
    steps = list(one_time_join(data["join_dc_host"], "ZABITA-WS02", "OU=zabita,DC=x", join,
                               "systemctl try-restart sssd"))  # fmt: skip
    ready = steps[0]
    assert isinstance(ready, FunctionCommand) and ready.function is ready_account
    dc, computer, ou, password = ready.args
    assert (dc, computer, ou) == ("dc1", "ZABITA-WS02", "OU=zabita,DC=x")
    assert password.value not in repr(ready)
    (upload,) = [step for step in steps if isinstance(step, FileUploadCommand)]
    assert isinstance(upload.src, StringIO) and upload.src.getvalue() == password.value + "\n"
    command = steps[-1]
    assert isinstance(command, StringCommand)
    join_line = str(command.get_raw_value())
    assert "adcli join" in join_line and "--login-type=computer --stdin-password" in join_line
    assert password.value not in join_line and "Administrator" not in join_line
    assert join_line.startswith("{ rm -f /etc/krb5.keytab; ")
    assert "systemctl try-restart sssd" in join_line


def test_members_join_as_their_computer_account_never_as_the_administrator() -> None:
    argv = workstation_join("zabita-ws02", DATA["zabita-ws02"])
    assert "--login-type=computer" in argv and "--stdin-password" in argv
    assert not any("Administrator" in part or "login-user" in part for part in argv)
    helper = (REPO / "roles/file_server/files/bimkit_samba_join.py").read_text()
    assert '"-U", account' in helper and 'account = f"{computer}$"' in helper
    assert "Administrator" not in helper
    assert not any("Administrator" in part for part in file_server_join("fs1", DATA["fs1"]))


def test_only_the_domain_controllers_role_reads_the_administrator_password() -> None:
    readers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "roles").rglob("*.py")
        if 'secret_value("ad_admin_password")' in path.read_text()
    )
    assert readers == ["roles/domain_controller/samba.py"], readers
    assert not Path(REPO / "roles" / "workstation" / "operations.py").read_text().count(
        "staged_secret")  # fmt: skip
