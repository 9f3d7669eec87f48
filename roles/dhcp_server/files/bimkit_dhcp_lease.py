#!/usr/bin/python3
"""bimkit-dhcp-lease: Kea's run_script hook — one syslog line per lease event (law 5651).

Kea runs it with the hook point's name and the lease in its environment
(libdhcp_run_script.so, `sync: false`). Each event becomes one line tagged
`bimkit-dhcp`, which rsyslog forwards to the log server, where `bimkit logs
search` reads it (dr.logs.leases):

    event=commit address=10.21.50.100 mac=52:54:00:12:34:56 hostname=pc7 start=1764849600
    valid=28800 server=dc1

Standard library only: it runs on the DC with Debian's python3.
"""

from __future__ import annotations

import os
import socket
import sys
import syslog
import time
from collections.abc import Mapping

ENDING = {"lease4_release": "release", "lease4_expire": "expire", "lease4_decline": "decline"}
GIVEN = {"lease4_renew": "commit", "lease4_recover": "commit"}


def clean(value: str) -> str:
    """One token: a hostname a client sends may hold spaces or control characters."""
    return "".join(c if c.isprintable() and not c.isspace() else "_" for c in value) or "-"


def event_line(event: str, env: Mapping[str, str], prefix: str, server: str, now: int) -> str:
    ending = event != "commit"
    start = now if ending else int(env.get(f"{prefix}CLTT", now))
    valid = 0 if ending else int(env.get(f"{prefix}VALID_LIFETIME", "0"))
    return (
        f"event={event} address={clean(env.get(f'{prefix}ADDRESS', ''))} "
        f"mac={clean(env.get(f'{prefix}HWADDR', ''))} "
        f"hostname={clean(env.get(f'{prefix}HOSTNAME', ''))} "
        f"start={start} valid={valid} server={server}"
    )


def lines(hook: str, env: Mapping[str, str], server: str, now: int) -> list[str]:
    """The log lines for one call of the hook (none for hook points that change no lease)."""
    if hook == "leases4_committed":
        given = [
            event_line("commit", env, f"LEASES4_AT{i}_", server, now)
            for i in range(int(env.get("LEASES4_SIZE", "0") or 0))
        ]
        released = [
            event_line("release", env, f"DELETED_LEASES4_AT{i}_", server, now)
            for i in range(int(env.get("DELETED_LEASES4_SIZE", "0") or 0))
        ]
        return given + released
    if hook in GIVEN:
        return [event_line(GIVEN[hook], env, "LEASE4_", server, now)]
    if hook in ENDING:
        return [event_line(ENDING[hook], env, "LEASE4_", server, now)]
    return []


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        print("usage: bimkit-dhcp-lease HOOK_POINT (run by Kea)", file=sys.stderr)
        return 2
    syslog.openlog("bimkit-dhcp", 0, syslog.LOG_DAEMON)
    for line in lines(arguments[0], os.environ, socket.gethostname(), int(time.time())):
        syslog.syslog(syslog.LOG_INFO, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
