"""The domain controller's recovery procedure, inside the drill's sandbox.

`samba-tool domain backup restore` turns the restored backup file into a new
DC (named DRILL-<host>, on the sandbox's isolated address); a throw-away
drill account is added to that copy; Samba starts; then the checks in
dr/drill/checks/test_active_directory.py run there under pytest and testinfra, and
their JUnit report becomes the drill's check list.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr.drill.in_sandbox import (
    RESTORE_MOUNT,
    RUN_MOUNT,
    RecoveryFailed,
    run_checks,
    spec_names,
    step,
)
from dr.drill.plan import DrillTarget
from dr.sandbox import machine
from dr.sandbox.image import ImageRecipe, for_release
from dr.sandbox.machine import MachineSpec

DC_DIR = "/var/lib/bimkit-drill/dc"
CONF = f"{DC_DIR}/etc/smb.conf"
DRILL_USER = "bimkit-drill"
SPECS = "test_active_directory.py"
ALWAYS = ("backup_file", "isolation")
"""Checks every DC drill runs, whatever the policy lists."""
PACKAGES = (
    "samba-ad-dc",
    "krb5-user",
    "ldb-tools",
    "bind9-host",
    "python3-pytest",
    "python3-testinfra",
)
"""On top of the sandbox base image: a DC to restore into and the checks' tools."""
SAMBA_UNITS = ("smbd.service", "nmbd.service", "winbind.service", "samba-ad-dc.service")

ADD_DRILL_USER = """
import sys, samba.param
from samba.auth import system_session
from samba.samdb import SamDB
lp = samba.param.LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=sys.argv[2], lp=lp, session_info=system_session())
with open(sys.argv[4], encoding="utf-8") as handle:
    db.newuser(sys.argv[3], handle.read().strip())
"""

WAIT_FOR_LDAP = """
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        socket.create_connection((sys.argv[1], 389), timeout=2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(1)
"""


def recipe(mirror: str) -> ImageRecipe:
    """Debian 13 with Samba installed, its services masked (they would hold ports and pid
    files the restored DC needs)."""
    return for_release("trixie", mirror, PACKAGES, SAMBA_UNITS)


def krb5_conf(realm: str, address: str) -> str:
    upper = realm.upper()
    return (
        f"[libdefaults]\n default_realm = {upper}\n dns_lookup_kdc = false\n"
        f" dns_lookup_realm = false\n\n[realms]\n {upper} = {{\n  kdc = {address}\n }}\n"
    )


def server_name(host: str) -> str:
    """The restored DC's name: a NetBIOS name has at most 15 characters."""
    return f"DRILL-{host}"[:15].upper()


def recover(
    spec: MachineSpec,
    target: DrillTarget,
    run_dir: Path,
    realm: str,
    address: str,
    production_addresses: Sequence[str],
) -> list[dict[str, Any]]:
    """Restore, start and check the DC; the checks as [{name, ok, detail}]."""
    staging = RESTORE_MOUNT + target.paths[0]
    backup_file = f"{staging}/samba-backup.tar.bz2"
    step(
        spec,
        "restore_backup",
        [
            "samba-tool", "domain", "backup", "restore", f"--backup-file={backup_file}",
            f"--targetdir={DC_DIR}", f"--newservername={server_name(target.host)}",
            f"--host-ip={address}",
        ],
    )  # fmt: skip
    password_file = run_dir / "password"
    with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(secrets.token_urlsafe(18) + "aA1!\n")  # this sandbox only, gone with it
    (run_dir / "krb5.conf").write_text(krb5_conf(realm, address), encoding="utf-8")
    step(
        spec,
        "add_drill_user",
        ["python3", "-c", ADD_DRILL_USER, CONF, f"{DC_DIR}/private/sam.ldb", DRILL_USER,
         f"{RUN_MOUNT}/password"],
    )  # fmt: skip
    step(spec, "start_samba", ["samba", "-s", CONF])
    try:
        step(spec, "wait_ldap", ["python3", "-c", WAIT_FOR_LDAP, address, "120"])
    except RecoveryFailed:
        log = machine.execute(spec, ["sh", "-c", "tail -n 8 /var/log/samba/log.samba"], check=False)
        raise RecoveryFailed(
            "ldap_silent", address=address, sandbox=spec.name, detail=log.stdout.strip()
        ) from None
    # The restored DC is its own DNS server; samba_dnsupdate then registers DRILL-<host>
    # (the restore drops every earlier DC). The dns_srv check judges the outcome.
    step(spec, "resolver",
         ["sh", "-c", f"echo 'nameserver {address}' > /etc/resolv.conf"])  # fmt: skip
    machine.execute(spec, ["samba_dnsupdate", "-s", CONF], check=False, timeout=120)
    params = {
        "realm": realm,
        "base_dn": ",".join(f"DC={part}" for part in realm.split(".")),
        "address": address,
        "user": DRILL_USER,
        "password_file": f"{RUN_MOUNT}/password",
        "krb5_conf": f"{RUN_MOUNT}/krb5.conf",
        "conf": CONF,
        "dc_dir": DC_DIR,
        "backup_file": backup_file,
        "manifest": f"{staging}/manifest.json",
        "production_addresses": list(production_addresses),
    }
    (run_dir / "params.json").write_text(json.dumps(params, indent=1), encoding="utf-8")
    return run_checks(spec, run_dir, SPECS, spec_names(ALWAYS, target.checks))
