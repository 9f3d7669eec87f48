"""Checks of a restored domain controller, run by the restore drill inside its sandbox.

testinfra's `host` is the sandbox itself (`--hosts=local://`). The drill
writes /drill/run/params.json: the realm, the sandbox's address, the drill
account (its password in a file), the restored DC's smb.conf, the manifest
taken at backup time and production addresses the sandbox must not reach.
Each policy check (`verify:` in estate.yaml) runs the test of the same name
(`ldap-bind` -> `test_ldap_bind`); `test_backup_file` runs in every drill, and
`test_isolation` (test_isolation.py) in every drill of every procedure.
Admins may add tests here; a new check name in estate.yaml needs one.
"""

from __future__ import annotations

import json
import re
from shlex import quote

import pytest

with open("/drill/run/params.json", encoding="utf-8") as params:
    PARAMS = json.load(params)
# Every value from params.json reaches the shell quoted.
LDAP = quote(f"ldap://{PARAMS['address']}")
USER = quote(PARAMS["user"])
BASE_DN = quote(PARAMS["base_dn"])
REALM = PARAMS["realm"].upper()
AS_DRILL_USER = f"PASSWD_FILE={quote(PARAMS['password_file'])} "
KRB5 = f"KRB5_CONFIG={quote(PARAMS['krb5_conf'])} KRB5CCNAME=FILE:/tmp/drill-ccache"
NOT_DRILL_USER = f"(!(sAMAccountName={PARAMS['user']}))"


@pytest.fixture(scope="module")
def manifest():
    with open(PARAMS["manifest"], encoding="utf-8") as handle:
        return json.load(handle)


def ldap_count(host, expression):
    """Entries (not referrals) under the domain, searched over LDAP as the drill account."""
    result = host.run(
        f"{AS_DRILL_USER}ldbsearch -H {LDAP} -U {USER} -b {BASE_DN} {quote(expression)} dn"
    )
    assert result.rc == 0, f"ldbsearch over LDAP failed: {result.stderr.strip()}"
    found = re.search(r"^# (\d+) entries", result.stdout, re.M)
    assert found, result.stdout[-500:]
    return int(found.group(1))


def test_backup_file(host, manifest):
    """The restored backup file is the one the manifest describes, byte for byte."""
    restored = host.file(PARAMS["backup_file"])
    assert restored.size == manifest["size"]
    assert restored.sha256sum == manifest["sha256"]


def test_ldap_bind(host):
    result = host.run(
        f"{AS_DRILL_USER}ldbsearch -H {LDAP} -U {USER} -s base -b '' defaultNamingContext"
    )
    assert result.rc == 0, f"LDAP bind as {PARAMS['user']} failed: {result.stderr.strip()}"
    assert "defaultNamingContext: DC=" in result.stdout


def test_object_counts(host, manifest):
    expected = manifest
    found = {
        "users": ldap_count(
            host, f"(&(objectClass=user)(!(objectClass=computer)){NOT_DRILL_USER})"
        ),
        "groups": ldap_count(host, "(objectClass=group)"),
        "ous": ldap_count(host, "(objectClass=organizationalUnit)"),
    }
    assert found == {name: expected[name] for name in found}
    sam = quote(f"{PARAMS['dc_dir']}/private/sam.ldb")
    zones = host.run(f"ldbsearch -H {sam} --cross-ncs '(objectClass=dnsZone)' name")
    names = set(re.findall(r"^name: (.+)$", zones.stdout, re.M)) - {
        "RootDNSServers",
        "..TrustAnchors",
    }
    assert sorted(names) == expected["dns_zones"]


def test_kerberos(host):
    principal = quote(f"{PARAMS['user']}@{REALM}")
    result = host.run(
        f"{KRB5} kinit {principal} < {quote(PARAMS['password_file'])} && {KRB5} klist"
    )
    assert result.rc == 0, f"kinit failed: {result.stderr.strip()}"
    assert f"krbtgt/{REALM}@{REALM}" in result.stdout


@pytest.mark.parametrize("record", ["_ldap._tcp", "_kerberos._tcp", "_kerberos._udp"])
def test_dns_srv(host, record):
    query = f"host -t SRV {quote(record + '.' + PARAMS['realm'])} {quote(PARAMS['address'])}"
    # samba_dnsupdate has just registered the DC; give the DNS server a moment.
    result = host.run(f"for i in $(seq 1 20); do {query} && exit 0; sleep 1; done; exit 1")
    assert result.rc == 0 and "has SRV record" in result.stdout, result.stdout[-300:]


def test_dbcheck(host):
    result = host.run(f"samba-tool dbcheck --cross-ncs -s {quote(PARAMS['conf'])}")
    assert result.rc == 0, result.stdout[-1500:] + result.stderr[-500:]
    assert re.search(r"Checked \d+ objects \(0 errors\)", result.stdout), result.stdout[-500:]
