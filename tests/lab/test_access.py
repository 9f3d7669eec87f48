"""Every person only where they belong, on the lab: joins without the Administrator password,
and the file server's access table tried with real Kerberos tickets against real Samba."""

from __future__ import annotations

import secrets
import shlex
import subprocess
from collections.abc import Iterator

import pytest

from bimkit.file_shares import Access, access_table, desired_folders
from bimkit.lab.state import LabPaths
from bimkit.model.schema import OsFamily, Role
from tests.lab.conftest import BIN, DeployTotals, lab_secret_values, run, totals
from tests.lab.test_backups import ESTATE, on

REALM = ESTATE.config.realm
NON_DCS = sorted(
    host.name
    for host in ESTATE.hosts.values()
    if host.os is OsFamily.debian
    and not host.has(Role.primary_dc)
    and not host.has(Role.additional_dc)
)
SEARCHED = "etc var root home tmp srv opt usr/local"
"""Where a secret could be left in a machine's own layer (its packages are the image's)."""
CLIENT = "zabita-ws01"
TABLE = access_table(ESTATE)
TRIED = ("ayse.cicek", "ibrahimhalil.ozturk", "omerfaruk.gunes", "isil.dogan", "rojda.baran",
         "huseyin.aslan", "dilan.ekinci", "ahmet.guler", "gulsen.yildirim")  # fmt: skip
"""One person of each of Bilgi İşlem's units and of Beyaz Masa, of Zabıta and Fen İşleri
(no units), Yazı İşleri's müdür (its manager) and an admin (bim-admins)."""


def ssh_with_input(lab: LabPaths, host: str, command: str, data: str) -> str:
    result = subprocess.run(["ssh", "-F", str(lab.ssh_config), host, command], input=data,
                            capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_forced_rejoin_hands_no_machine_the_administrator_password(
    first_deploy: DeployTotals, lab: LabPaths
) -> None:
    """Root on a workstation deletes its keytab and says it is not joined: the next deploy
    rejoins it with a one-time password, says so and logs it; the Administrator password is
    nowhere on any machine but the DCs: files, process environments, journals."""
    host = "zabita-ws02"
    on(host, "rm -f /etc/krb5.keytab")
    deployed = run(str(BIN / "pyinfra"), "inventory.py", "deploys/workstations.py", "-y",
                   "--limit", host, env={"BIMKIT_LAB": "1"})  # fmt: skip
    output = deployed.stdout + deployed.stderr
    assert f"{host}: rejoined: its computer account ZABITA-WS02$ existed and was reset" in output
    assert totals(output).changed >= 1
    assert on(host, f"adcli testjoin --domain={REALM} --domain-controller=dc1.{REALM} "
                    ">/dev/null && echo ok") == "ok"  # fmt: skip
    logged = on("log1", "grep -h 'bimkit-computer-account' /var/log/remote/$(date +%F)/dc1.log")
    assert "computer account ZABITA-WS02$ reset for a join of zabita-ws02" in logged
    password = lab_secret_values()["ad_admin_password"]
    hits = []
    for machine in NON_DCS:
        upper = lab.root / "machines" / machine / "upper"
        paths = " ".join(str(upper / part) for part in SEARCHED.split())
        found = subprocess.run(f"grep -rlaF -f /dev/stdin {paths} 2>/dev/null || true",
                               shell=True, input=password, capture_output=True, text=True,
                               check=False).stdout.split()  # fmt: skip
        hits += [f"{machine}: {path}" for path in found]
        inside = ssh_with_input(lab, machine, "cat /proc/[0-9]*/environ 2>/dev/null | "
                                "grep -caF -f /dev/stdin; journalctl --no-pager -o cat | "
                                "grep -caF -f /dev/stdin; grep -rlaF -f /dev/stdin /run "
                                "2>/dev/null | wc -l", password + "\n")  # fmt: skip
        hits += [f"{machine}: {count} in {where}" for count, where in
                 zip(inside.split(), ("process environments", "the journal", "/run"),
                     strict=True) if count != "0"]  # fmt: skip
    assert hits == [], hits


@pytest.fixture(scope="module")
def tickets(first_deploy: DeployTotals, lab: LabPaths) -> Iterator[dict[str, str]]:
    """A Kerberos ticket cache on the client for each person tried, from a password set on
    dc1 and given to kinit on stdin."""
    caches = {}
    for person in TRIED:
        password = secrets.token_urlsafe(12) + "aA1!"
        ssh_with_input(lab, "dc1", f"samba-tool user setpassword {person} "
                       "--newpassword=\"$(cat)\" >/dev/null", password)  # fmt: skip
        cache = f"/tmp/krb5cc_access_{person}"
        ssh_with_input(lab, CLIENT, f"KRB5CCNAME={cache} kinit {person}@{REALM.upper()} "
                       ">/dev/null", password + "\n")  # fmt: skip
        caches[person] = cache
    yield caches
    on(CLIENT, "rm -f /tmp/krb5cc_access_*")


def tried(person: str, cache: str) -> dict[str, Access]:
    """List, read and write on every folder as `person`: what they could do."""
    lines = []
    for folder in desired_folders(ESTATE):
        share, _, inside = folder.path.partition("/")
        prefix = f"{inside}/" if inside else ""
        for operation, command in (
            ("list", f"ls {prefix}*"),
            ("read", f"get {prefix}okuma-testi.txt /dev/null"),
            ("write", f"put /etc/hostname {prefix}yazma-{person}.txt"),
        ):
            smb = (f"KRB5CCNAME={cache} smbclient --use-kerberos=required "
                   f"//fs1.{REALM}/{share} -c {shlex.quote(command)} 2>&1")  # fmt: skip
            lines.append(f"out=$({smb}); case \"$out\" in *NT_STATUS_*) r=no;; *) r=yes;; esac; "
                         f"echo {folder.path} {operation} $r")  # fmt: skip
    results: dict[str, dict[str, bool]] = {}
    for line in on(CLIENT, "\n".join(lines)).splitlines():
        path, operation, outcome = line.split()
        results.setdefault(path, {})[operation] = outcome == "yes"
    found = {}
    for path, done in results.items():
        if done["write"] and done["read"] and done["list"]:
            found[path] = Access.write
        elif done["read"] and done["list"] and not done["write"]:
            found[path] = Access.read
        elif not any(done.values()):
            found[path] = Access.none
        else:
            raise AssertionError(f"{person} on {path}: {done}")
    return found


def test_the_file_servers_access_is_the_table_the_data_gives(
    tickets: dict[str, str],
) -> None:
    """Each person tries list, read and write on every folder with their own ticket: what
    Samba lets them do is `bimkit plan --access`, cell by cell (no unit reads another's
    folder, units only read their müdürlük's top folder, the manager reads every unit)."""
    for folder in desired_folders(ESTATE):
        path = f"/srv/shares/{folder.path}/okuma-testi.txt"
        on("fs1", f"echo okuma > {path}")  # the folder's default ACL makes it readable alike
    try:
        differences = []
        for person, cache in tickets.items():
            found = tried(person, cache)
            differences += [
                f"{person} on {path}: expected {TABLE[person][path]}, got {got}"
                for path, got in found.items()
                if got is not TABLE[person][path]
            ]
        assert differences == [], "\n".join(differences)
        assert TABLE["isil.dogan"]["bilgi-islem/guvenlik"] is Access.none  # what this is about
    finally:
        on("fs1", "find /srv/shares -name okuma-testi.txt -delete; "
                  "find /srv/shares -name 'yazma-*.txt' -delete")  # fmt: skip
