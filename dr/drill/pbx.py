"""The PBX's recovery procedure, inside a Debian unstable sandbox on the DR host.

Asterisk is packaged only in Debian unstable (see roles/pbx), so the PBX's
drill boots a sandbox of the PBX's own release with Asterisk installed and
not started. The snapshot's files go back where they were on the PBX, owned
by this machine's `asterisk` user (numeric ids differ between machines), and
Asterisk starts from them; then the checks in dr/drill/checks/test_pbx.py
compare what it loaded with what production had loaded at backup time, and
a SIP call (SIPp) inside the sandbox must leave a voicemail recording.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr.asterisk import counts_file
from dr.drill.in_sandbox import RESTORE_MOUNT, run_checks, spec_names, step
from dr.drill.plan import DrillTarget
from dr.sandbox.image import ImageRecipe, for_release
from dr.sandbox.machine import MachineSpec

SPECS = "test_pbx.py"
ALWAYS = ("isolation", "voicemail_call")
PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-config",
    "asterisk-core-sounds-en",
    "sip-tester",
    "python3-pytest",
    "python3-testinfra",
)
OWNED_BY_ASTERISK = ("/var/spool/asterisk", "/var/lib/asterisk")
"""Asterisk writes here; /etc/asterisk stays root's, readable by the asterisk group."""

WAIT_FULLY_BOOTED = (
    "for second in $(seq 1 60); do "
    "asterisk -rx 'core waitfullybooted' 2>/dev/null | grep -q 'fully booted' && exit 0; "
    "sleep 1; done; echo 'Asterisk did not finish booting in 60 s'; exit 1"
)


def recipe(mirror: str, release: str) -> ImageRecipe:
    """The PBX's release with Asterisk installed; the drill starts it, not systemd."""
    return for_release(release, mirror=mirror, apt_packages=PACKAGES,
                       mask=("asterisk.service",))  # fmt: skip


def put_back(paths: Sequence[str]) -> str:
    """A shell script: each backed-up path from the snapshot to its place, then owners."""
    lines = ["set -e"]
    for path in paths:
        source, target = shlex.quote(RESTORE_MOUNT + path), shlex.quote(path)
        lines.append(f"if [ -e {source} ]; then rm -rf {target}; "
                     f"mkdir -p \"$(dirname {target})\"; cp -a {source} {target}; fi")  # fmt: skip
    lines += [f"chown -R asterisk:asterisk {' '.join(OWNED_BY_ASTERISK)}",
              "chown -R root:asterisk /etc/asterisk"]  # fmt: skip
    return "\n".join(lines)


def recover(
    spec: MachineSpec, target: DrillTarget, run_dir: Path, production_addresses: Sequence[str]
) -> list[dict[str, Any]]:
    """Put the files back, start Asterisk, check it; the checks as [{name, ok, detail}]."""
    step(spec, "put_back", ["sh", "-c", put_back(target.paths)])
    step(spec, "start_asterisk", ["asterisk", "-U", "asterisk", "-G", "asterisk"])
    step(spec, "wait_asterisk", ["sh", "-c", WAIT_FULLY_BOOTED], timeout=90)
    params = {
        "counts_file": RESTORE_MOUNT + counts_file(target.service),
        "allow_empty": target.allow_empty,
        "production_addresses": list(production_addresses),
    }
    (run_dir / "params.json").write_text(json.dumps(params, indent=1), encoding="utf-8")
    return run_checks(spec, run_dir, SPECS, spec_names(ALWAYS, target.checks))
