#!/usr/bin/python3
"""Pull SYSVOL from the primary DC, one way (Samba does not replicate it).

    bimkit-sysvol-sync PRIMARY_ADDRESS

Run by bimkit-sysvol-sync.timer on the additional DCs. -X keeps the
security.NTACL attributes, so the ACLs arrive as the primary has them; the
DCs share one idmap (copied once at setup), so the IDs in them agree.
Installed as /usr/local/sbin/bimkit-sysvol-sync by the domain_controller role.
"""

import subprocess
import sys

SYSVOL = "/var/lib/samba/sysvol/"


def main() -> int:
    if len(sys.argv) != 2:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    primary = sys.argv[1]
    pulled = subprocess.run(
        ["rsync", "-XAa", "--delete-after", "--exclude=*.SyncID",
         f"rsync://{primary}/sysvol/", SYSVOL],
        check=False,
    )  # fmt: skip
    if pulled.returncode != 0:
        print(f"bimkit-sysvol-sync: rsync from {primary} into {SYSVOL} exited "
              f"{pulled.returncode}", file=sys.stderr)  # fmt: skip
    return pulled.returncode


if __name__ == "__main__":
    sys.exit(main())
