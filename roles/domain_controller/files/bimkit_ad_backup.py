#!/usr/bin/python3
"""Application-consistent backup of this DC's domain, plus a manifest, for restic to take.

    bimkit-ad-backup [STAGING]      default /var/backups/bimkit/active-directory

Runs `samba-tool domain backup offline` (it locks the databases, so the copy
is consistent while samba-ad-dc keeps running) and writes manifest.json:
the counts of users, groups, OUs and the DNS zones at backup time, which a
restore drill compares with the restored domain. The counts are taken
before and after the backup and must agree, else it is taken again.

Replication the backup's lock made fail is tried again at once.

STAGING then holds exactly samba-backup.tar.bz2 and manifest.json. Each is
replaced atomically, the manifest last, and the manifest carries the
backup's sha256, so a failed run leaves the previous pair and a mismatched
pair is detectable. Installed as /usr/local/sbin/bimkit-ad-backup by the
domain_controller role: the pre-hook of the `active-directory` backup policy.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import samba
import samba.param
from samba.auth import system_session
from samba.samdb import SamDB

DEFAULT_STAGING = "/var/backups/bimkit/active-directory"
BACKUP_FILE = "samba-backup.tar.bz2"
MANIFEST_FILE = "manifest.json"
ATTEMPTS = 3


def counts(samdb: Any) -> dict[str, Any]:
    base = samdb.domain_dn()

    def count(expression: str, cross_ncs: bool = False) -> int:
        controls = ["search_options:1:2"] if cross_ncs else None
        return len(
            samdb.search(
                base if not cross_ncs else "",
                expression=expression,
                attrs=["dn"],
                controls=controls,
            )
        )

    zones = samdb.search(
        "", expression="(objectClass=dnsZone)", attrs=["name"], controls=["search_options:1:2"]
    )
    return {
        "users": count("(&(objectClass=user)(!(objectClass=computer)))"),
        "groups": count("(objectClass=group)"),
        "ous": count("(objectClass=organizationalUnit)"),
        "computers": count("(objectClass=computer)"),
        "dns_zones": sorted(
            str(z["name"][0])
            for z in zones
            if str(z["name"][0]) not in ("RootDNSServers", "..TrustAnchors")
        ),
    }


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def retry_disturbed_replication(server: str) -> None:
    """Pull again every inbound partition whose last attempt failed.

    The offline backup holds the databases locked; a replication that
    arrives meanwhile fails (WERR_NETNAME_DELETED) and, between sites, is
    not tried again for a while, so the DCs would look unhealthy until then.
    """
    shown = subprocess.run(
        ["samba-tool", "drs", "showrepl", "--json"], capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        return
    for link in json.loads(shown.stdout).get("repsFrom", []):
        if link.get("consecutive failures") and not link.get("is deleted"):
            source = link["DSA"].rsplit("\\", 1)[-1].lower()
            again = subprocess.run(
                ["samba-tool", "drs", "replicate", server, source, link["NC dn"], "-P"],
                capture_output=True,
                text=True,
                check=False,
            )
            outcome = "done" if again.returncode == 0 else again.stderr.strip()[-200:]
            print(
                f"bimkit-ad-backup: replication of {link['NC dn']} from {source} "
                f"tried again: {outcome}",
                file=sys.stderr,
            )


def main() -> int:
    staging = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_STAGING
    os.makedirs(staging, mode=0o700, exist_ok=True)
    os.chmod(staging, 0o700)
    for stale in glob.glob(os.path.join(staging, ".tmp-*")):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    lp = samba.param.LoadParm()
    lp.load_default()
    samdb = SamDB(lp=lp, session_info=system_session())
    work = tempfile.mkdtemp(prefix=".tmp-", dir=staging)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            before = counts(samdb)
            started = time.time()
            subprocess.run(
                ["samba-tool", "domain", "backup", "offline", f"--targetdir={work}"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            after = counts(samdb)
            if before == after:
                break
            print(
                f"bimkit-ad-backup: the directory changed during backup {attempt}; again",
                file=sys.stderr,
            )
            for made in glob.glob(os.path.join(work, "*")):
                os.remove(made)
        else:
            raise SystemExit(
                f"bimkit-ad-backup: the directory kept changing; no backup in {staging}"
            )
        [made] = glob.glob(os.path.join(work, "samba-backup-*.tar.bz2"))
        manifest = {
            "service": "active-directory",
            "realm": lp.get("realm").lower(),
            "server": lp.get("netbios name").lower(),
            "samba_version": samba.version,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "backup_file": BACKUP_FILE,
            "size": os.path.getsize(made),
            "sha256": sha256(made),
            **after,
        }
        os.replace(made, os.path.join(staging, BACKUP_FILE))
        temporary_manifest = os.path.join(work, MANIFEST_FILE)
        with open(temporary_manifest, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.replace(temporary_manifest, os.path.join(staging, MANIFEST_FILE))
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"bimkit-ad-backup: samba-tool domain backup offline failed "
            f"(exit {error.returncode}); {staging} keeps the previous backup"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        retry_disturbed_replication(lp.get("netbios name").lower())
    print(
        f"{staging}/{BACKUP_FILE}: {manifest['users']} users, {manifest['groups']} groups, "
        f"{manifest['ous']} OUs, {len(manifest['dns_zones'])} DNS zones"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
