"""Staff desks on the lab: real adcli joins to the lab's Samba DCs, real sssd sign-in at the
desk (the console's PAM stack, `login`, driven by pamtester with a password as a person types
it: SSH takes no passwords on a workstation), and the real Samba member file server fs1
reached from the workstations with the person's Kerberos ticket (smbclient: the lab's kernel
has no CIFS client, so shares are not mounted)."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shlex
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
import yaml

from bimkit.directory import computer_ou
from bimkit.lab.state import LabPaths
from bimkit.model.schema import OsFamily, Role
from bimkit.sites import copy_estate_data
from roles.backup_agent.plan import manifest_path
from tests.conftest import REPO
from tests.lab.conftest import BIN, DeployTotals, bimkit, run, totals
from tests.lab.test_backups import ESTATE, dr, on

REALM = ESTATE.config.realm
WORKSTATIONS = sorted(
    host.name for host in ESTATE.hosts_with(Role.workstation) if host.os is OsFamily.debian
)
"""The Linux ones: a Windows workstation (fen-ws03) would join over WinRM, not built."""
STAFF = "dilan.ekinci"  # Fen İşleri
ADMIN = "sukru.caglayan"  # bim-admins
KEY_ADMIN = "ibrahimhalil.ozturk"  # bim-admins, given a key in a copy of the data
INACTIVE = "umit.kurt"  # `active: false` in people.yaml
COLLEAGUE = "serhat.tunc"  # Fen İşleri, as STAFF
OUTSIDER = "zeynep.kilic"  # Zabıta
FILE_SERVER = f"fs1.{REALM}"
TESTJOIN = f"--domain={REALM} --domain-controller={ESTATE.primary_dc.name}.{REALM}"
"""Asked where the deploy joins: DC discovery from a site without a DC can take a minute."""


def address(host: str) -> str:
    return str(ESTATE.hosts[host].address)


@pytest.fixture(scope="module")
def joined(first_deploy: DeployTotals) -> None:
    """deploys/site.py joined the workstations (deploys/workstations.py, included); pamtester
    stands in for the sign-in screen."""
    for host in WORKSTATIONS:
        on(host, "command -v pamtester >/dev/null || apt-get install -y -qq pamtester >/dev/null")


@pytest.fixture(scope="module")
def passwords(joined: None) -> Iterator[dict[str, str]]:
    """The hand-over passwords, changed as a person does at first sign-in (set on dc1)."""
    people = (STAFF, ADMIN, INACTIVE, COLLEAGUE, OUTSIDER, KEY_ADMIN)
    chosen = {user: secrets.token_urlsafe(12) + "aA1!" for user in people}
    for user, password in chosen.items():
        on("dc1", f"samba-tool user setpassword {user} --newpassword='{password}' >/dev/null")
    # samba-tool's setpassword also enables the account: the leaver is disabled again, as
    # the directory step of the next deploy would do.
    on("dc1", f"samba-tool user disable {INACTIVE} >/dev/null")
    yield chosen
    # The people's sessions end, and their systemd managers stop. In a lab machine (nspawn,
    # hybrid cgroups) such a manager sometimes fails on its way down ("Failed to spawn
    # executor"), which would read as a failed unit in the base spec of test_lab.py. The
    # managers stop some seconds after the last session (UserStopDelaySec), so this waits
    # for them all to be gone before it names and clears the failed ones.
    for host in WORKSTATIONS:
        on(host, f"for person in {' '.join(people)}; do loginctl terminate-user $person "
                 "2>/dev/null; done; true")  # fmt: skip
    for host in WORKSTATIONS:
        on(host, "for i in $(seq 90); do systemctl list-units --no-legend --plain "
                 "--state=active,activating,deactivating 'user@2*' | grep -q . || break; "
                 "sleep 1; done")  # fmt: skip
        failed = on(host, "systemctl --failed --no-legend --plain 'user@*' | cut -d' ' -f1")
        if failed:
            warnings.warn(f"{host}: lab sign-ins left {failed} failed", stacklevel=1)
        on(host, "systemctl reset-failed 'user@*'")


class Refused(Exception):
    """The desk's PAM stack refused the sign-in (authentication or account)."""


def sign_in(host: str, user: str, password: str, command: str = "true") -> str:
    """Sign in at the desk `host` as `user` with `password` (the console's PAM stack,
    `login`: authentication, account, session), then run `command` as them with the
    Kerberos ticket sssd got at sign-in; its output. Refused when PAM said no."""
    script = (
        f"pamtester login {user} authenticate acct_mgmt open_session >/dev/null 2>&1 || "
        "{ echo REFUSED; exit 0; }; "
        f"cache=$(ls -t /tmp/krb5cc_$(id -u {user})_* 2>/dev/null | head -1); "
        f"cd /; runuser -u {user} -- env KRB5CCNAME=FILE:$cache HOME=/home/{user} "
        f"sh -c {shlex.quote(command)}"
    )
    result = subprocess.run(["ssh", "-F", str(LabPaths.from_env().ssh_config), host, script],
                            input=password + "\n", capture_output=True, text=True, timeout=120,
                            check=False)  # fmt: skip
    output = result.stdout.strip()
    if output == "REFUSED":
        raise Refused(f"{user} at {host}")
    return output


def test_every_workstation_of_the_estate_is_joined_into_its_sites_ou(joined: None) -> None:
    for host in WORKSTATIONS:
        assert on(host, f"adcli testjoin {TESTJOIN} >/dev/null && echo ok") == "ok", host
        site = ESTATE.hosts[host].site
        dn = on("dc1", f"ldbsearch -H /var/lib/samba/private/sam.ldb "
                       f"'(sAMAccountName={host.upper()}$)' dn | sed -n 's/^dn: //p'")  # fmt: skip
        assert dn == f"CN={host.upper()},{computer_ou(REALM, site)}", host


def test_a_person_signs_in_with_their_ad_password_at_two_desks_an_admin_at_two_sites(
    passwords: dict[str, str],
) -> None:
    since = on("fen-ws01", "date +%s")
    for host, person in (("fen-ws01", STAFF), ("fen-ws02", STAFF), ("zabita-ws01", ADMIN),
                         ("merkez-ws01", ADMIN)):  # fmt: skip
        shown = sign_in(host, person, passwords[person],
                        "id -un; echo $HOME; test -d $HOME && echo home")  # fmt: skip
        assert shown.splitlines() == [person, f"/home/{person}", "home"], (host, shown)
    # pam_mount asked for their home folder, the common share and their department's, and
    # no other; the lab's kernel has no CIFS client, so each mount fails right there.
    journal = on("fen-ws01", f"journalctl --since=@{since} --no-pager -o cat")
    asked = set(re.findall(r"mount of (\S+) failed", journal))
    assert asked == {STAFF, "ortak", "fen-isleri"}, journal[-3000:]
    assert "cifs filesystem not supported" in journal
    # The same uid everywhere: sssd maps it from the account's SID.
    uids = {on(host, f"id -u {ADMIN}") for host in ("fen-ws01", "zabita-ws01", "merkez-ws01")}
    assert len(uids) == 1, uids


def test_a_wrong_password_and_a_disabled_person_are_refused(passwords: dict[str, str]) -> None:
    for user, password in ((STAFF, "not-the-password"), (INACTIVE, passwords[INACTIVE])):
        with pytest.raises(Refused):
            sign_in("fen-ws01", user, password)


def test_staff_sign_in_only_where_their_department_works(passwords: dict[str, str]) -> None:
    """A Zabıta person at a Fen İşleri desk is refused by sssd (the account check), though
    the password is right; at a Zabıta desk, welcome. SSH takes no password at all."""
    with pytest.raises(Refused):
        sign_in("fen-ws02", OUTSIDER, passwords[OUTSIDER])
    assert sign_in("zabita-ws02", OUTSIDER, passwords[OUTSIDER], "id -un") == OUTSIDER
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # lab machines only
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(address("zabita-ws02"), username=OUTSIDER, password=passwords[OUTSIDER],
                       timeout=20, allow_agent=False, look_for_keys=False)  # fmt: skip
    client.close()


def test_an_admin_comes_in_by_the_key_the_data_gives(
    passwords: dict[str, str], tmp_path: Path
) -> None:
    """A copy of the data gives an admin a key; the desk lets them in by it, and only them."""
    key = tmp_path / "id_rsa"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", str(key)], check=True
    )
    data = tmp_path / "data"
    data.mkdir()
    copy_estate_data(REPO, data)
    people = yaml.safe_load((data / "directory" / "people.yaml").read_text())
    person = next(p for p in people["people"] if p["id"] == "1002")
    person["ssh_keys"] = [key.with_suffix(".pub").read_text().strip()]
    (data / "directory" / "people.yaml").write_text(yaml.safe_dump(people, allow_unicode=True))
    deploy = [str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y",
              "--limit", "zabita-ws02"]  # fmt: skip
    try:
        run(*deploy, env={"BIMKIT_LAB": "1", "BIMKIT_DATA": str(data)})
        ssh = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]  # fmt: skip
        came_in = run(*ssh, f"{KEY_ADMIN}@{address('zabita-ws02')}", "id -un", check=False)
        assert came_in.stdout.strip() == KEY_ADMIN, came_in.stderr
        other = run(*ssh, f"{STAFF}@{address('zabita-ws02')}", "id -un", check=False)
        assert other.returncode != 0 and "Permission denied" in other.stderr
    finally:
        run(*deploy, env={"BIMKIT_LAB": "1"})


def test_a_disabled_admin_is_refused_sign_in_and_sudo_once_the_dc_answers(
    passwords: dict[str, str],
) -> None:
    """Offline (sssd told so: the lab's machines may not change their routes), a cached
    password still opens the desk, for the days the data allows; once the DCs answer, the
    disabled account is refused at the desk and by sudo."""
    host, password = "merkez-ws02", passwords[KEY_ADMIN]
    assert sign_in(host, KEY_ADMIN, password, "id -un") == KEY_ADMIN  # cached now
    on(host, "systemctl kill -s SIGUSR1 sssd")  # offline, as when no DC answers
    on("dc1", f"samba-tool user disable {KEY_ADMIN} >/dev/null")
    try:
        assert sign_in(host, KEY_ADMIN, password, "id -un") == KEY_ADMIN
        on(host, "systemctl kill -s SIGUSR2 sssd")  # the DCs answer again
        for _ in range(30):
            if "Online" in on(host, f"sssctl domain-status {REALM} -o"):
                break
            time.sleep(1)
        with pytest.raises(Refused):
            sign_in(host, KEY_ADMIN, password)
        sudo = subprocess.run(
            ["ssh", "-F", str(LabPaths.from_env().ssh_config), host,
             f"runuser -u {KEY_ADMIN} -- sudo -S -k true; echo exit=$?"],
            input=password + "\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert sudo.stdout.strip().endswith("exit=1"), sudo.stdout + sudo.stderr
    finally:
        on("dc1", f"samba-tool user enable {KEY_ADMIN} >/dev/null")


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
    assert on(host, f"adcli testjoin {TESTJOIN} >/dev/null 2>&1 && echo ok || echo broken") == (
        "broken"
    )
    env = {"BIMKIT_LAB": "1"}
    run(str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y", "--limit", host,
        env=env)  # fmt: skip
    assert on(host, f"adcli testjoin {TESTJOIN} >/dev/null && echo ok") == "ok"
    again = run(str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y",
                "--limit", host, env=env)  # fmt: skip
    done = totals(again.stdout + again.stderr)
    assert done.changed == 0, done.changed_operations


def on_share(share: str, commands: str) -> str:
    """smbclient on the share of fs1 with the signed-in person's Kerberos ticket (sssd got it
    at sign-in): no password asked or given."""
    return (
        f"smbclient --use-kerberos=required //{FILE_SERVER}/{share} -c {shlex.quote(commands)} "
        "2>&1 | grep -v gencache_init"
    )


def test_the_file_server_is_a_member_and_ids_agree_with_the_workstations(joined: None) -> None:
    assert on("fs1", "net ads testjoin 2>&1") == "Join is OK"
    uids = {on(host, f"id -u {STAFF}") for host in ("fs1", "fen-ws01", "zabita-ws01")}
    assert len(uids) == 1, uids
    gids = {on(host, "getent group fen-isleri | cut -d: -f3") for host in ("fs1", "fen-ws01")}
    assert len(gids) == 1 and gids != {""}, gids


def test_a_department_share_is_theirs_alone_reached_with_their_ticket(
    passwords: dict[str, str],
) -> None:
    name = f"rapor-{secrets.token_hex(4)}.txt"
    text = "Kayapınar yol çalışması raporu"
    put = on_share("fen-isleri", f"put /tmp/{name} {name}; ls {name}")
    shown = sign_in("fen-ws02", STAFF, passwords[STAFF],
                    f"echo '{text}' > /tmp/{name}; klist -s && echo ticket; {put}")  # fmt: skip
    assert shown.startswith("ticket") and f"putting file /tmp/{name}" in shown, shown
    owner = on("fs1", f"stat -c %u /srv/shares/fen-isleri/{name}")
    assert owner == on("fs1", f"id -u {STAFF}")
    outsider = sign_in("zabita-ws01", OUTSIDER, passwords[OUTSIDER],
                       on_share("fen-isleri", f"get {name} /dev/stdout"))  # fmt: skip
    assert "NT_STATUS_ACCESS_DENIED" in outsider and text not in outsider, outsider
    admin = sign_in("zabita-ws02", ADMIN, passwords[ADMIN],
                    on_share("fen-isleri", f"get {name} /dev/stdout"))  # fmt: skip
    assert text in admin, admin
    # The colleague reads it, then deletes it: it waits in the share's recycle bin under
    # the name of who deleted it.
    colleague = sign_in("fen-ws01", COLLEAGUE, passwords[COLLEAGUE],
                        on_share("fen-isleri", f"get {name} /dev/stdout; rm {name}"))  # fmt: skip
    assert text in colleague, colleague
    assert on("fs1", f"test -f /srv/shares/fen-isleri/{name} || echo gone") == "gone"
    recycled = f"/srv/shares/fen-isleri/.recycle/{COLLEAGUE}/{name}"
    assert on("fs1", f"cat {recycled}") == text


def test_the_file_drill_proves_a_restored_file_keeps_its_owner_and_nt_acl(
    passwords: dict[str, str],
) -> None:
    name = f"tatbikat-{secrets.token_hex(4)}.txt"
    put = on_share("fen-isleri", f"put /etc/hostname {name}")
    sign_in("fen-ws01", STAFF, passwords[STAFF], put)
    path = f"/srv/shares/fen-isleri/{name}"
    assert "security.NTACL" in on("fs1", f"getfattr -m - --absolute-names {path}")
    code, out, err = dr("backup", "--host", "fs1")
    assert code == 0, out + err
    recorded = json.loads(on("fs1", f"cat {manifest_path('file-shares')}"))["access"][path]
    assert recorded[0] == int(on("fs1", f"id -u {STAFF}")) and recorded[3], recorded
    result = bimkit("dr", "drill", "--json", "--service", "fs1", env={"BIMKIT_LAB": "1"},
                    check=False, timeout=1800)  # fmt: skip
    [shares] = json.loads(result.stdout)["results"]
    acls = next(check for check in shares["checks"] if check["name"] == "acls")
    assert shares["status"] == "OK" and acls["ok"], shares
    assert acls["args"]["checked"] == shares["verification"]["checked"] > 0


def test_leavers_are_listed_with_what_they_still_own(joined: None) -> None:
    folder = "/srv/shares/kultur-sosyal/yazismalar"
    on("fs1", f"mkdir -p {folder} && head -c 3000000 /dev/urandom > {folder}/devir.bin && "
              f"chown {INACTIVE} {folder}/devir.bin")  # fmt: skip
    shown = bimkit("directory", "leavers", "--json", env={"BIMKIT_LAB": "1"})
    rows = {row["username"]: row for row in json.loads(shown.stdout)}
    assert STAFF not in rows, "an active person is no leaver"
    leaver = rows[INACTIVE]
    assert leaver["files"] >= 1 and leaver["bytes"] >= 3000000, leaver
    assert leaver["uid"] == int(on("fs1", f"id -u {INACTIVE}"))
