"""Is this host's clock following its time servers? Deleting logs waits until it does."""

from __future__ import annotations

from dr.process import CommandFailed, run


def synchronised() -> tuple[bool, str]:
    """(synchronised, why) from chrony's own view (`chronyc -c tracking`, its leap status).

    The kernel's flag cannot tell in a container, whose clock is the host's:
    chrony there follows its sources without setting the clock.
    """
    try:
        fields = run(["chronyc", "-c", "tracking"], timeout=10, context="clock").stdout.split(",")
    except CommandFailed as failed:
        return False, f"chronyc could not say: {failed}"
    leap = fields[-1].strip() if len(fields) > 13 else ""
    if leap in ("Normal", "Insert second", "Delete second"):
        return True, f"chrony follows {fields[1] or fields[0]} (stratum {fields[2]})"
    return False, f"chrony reports `{leap or 'nothing'}`: the clock follows no time server"
