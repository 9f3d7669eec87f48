#!/usr/bin/python3
"""bimkit-dhcp-lease: Kea's run_script hook — one line per lease event (law 5651).

Kea runs it, as its own user, with the hook point's name and the lease in its
environment (libdhcp_run_script.so, `sync: false`). Each event is appended
as one line to a file only Kea may write:

    event=commit address=10.21.50.100 mac=52:54:00:12:34:56 hostname=pc7 start=1764849600
    valid=28800

rsyslog reads that file (imfile) and sends it to the log server on the lease
channel alone (TLS, this DC's certificate, a port that takes no other), where
`bimkit logs search` reads it (dr.logs.leases). Nothing goes through the
host's shared syslog socket, which every local user can write to. A file,
not a socket: events written while rsyslog restarts are read when it is back.

Standard library only: it runs on the DC with Debian's python3.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

EVENTS = "/var/log/bimkit-dhcp/leases.log"
"""In a folder only Kea's user may write (roles/dhcp_server)."""

ENDING = {"lease4_release": "release", "lease4_expire": "expire", "lease4_decline": "decline"}
GIVEN = {"lease4_renew": "commit", "lease4_recover": "commit"}


def clean(value: str) -> str:
    """One token: a hostname a client sends may hold spaces or control characters."""
    return "".join(c if c.isprintable() and not c.isspace() else "_" for c in value) or "-"


def event_line(event: str, env: Mapping[str, str], prefix: str, now: int) -> str:
    ending = event != "commit"
    start = now if ending else int(env.get(f"{prefix}CLTT", now))
    valid = 0 if ending else int(env.get(f"{prefix}VALID_LIFETIME", "0"))
    return (
        f"event={event} address={clean(env.get(f'{prefix}ADDRESS', ''))} "
        f"mac={clean(env.get(f'{prefix}HWADDR', ''))} "
        f"hostname={clean(env.get(f'{prefix}HOSTNAME', ''))} "
        f"start={start} valid={valid}"
    )


def lines(hook: str, env: Mapping[str, str], now: int) -> list[str]:
    """The log lines for one call of the hook (none for hook points that change no lease)."""
    if hook == "leases4_committed":
        given = [
            event_line("commit", env, f"LEASES4_AT{i}_", now)
            for i in range(int(env.get("LEASES4_SIZE", "0") or 0))
        ]
        released = [
            event_line("release", env, f"DELETED_LEASES4_AT{i}_", now)
            for i in range(int(env.get("DELETED_LEASES4_SIZE", "0") or 0))
        ]
        return given + released
    if hook in GIVEN:
        return [event_line(GIVEN[hook], env, "LEASE4_", now)]
    if hook in ENDING:
        return [event_line(ENDING[hook], env, "LEASE4_", now)]
    return []


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        print("usage: bimkit-dhcp-lease HOOK_POINT (run by Kea)", file=sys.stderr)
        return 2
    found = lines(arguments[0], os.environ, int(time.time()))
    if found:
        # One write of whole lines, appended: concurrent hooks never interleave a line.
        descriptor = os.open(EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, "".join(f"{line}\n" for line in found).encode())
        finally:
            os.close(descriptor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
