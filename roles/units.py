"""systemd unit files the roles install, with the reload that makes systemd see them (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from roles.managed import ManagedFile

UNIT_DIR = "/etc/systemd/system"
DAEMON_RELOAD = "systemctl daemon-reload"


def restart_retried(service: str) -> str:
    """Restart `service`; a start that fails is tried twice more (in lab machines systemd has
    refused restarts of Kea and Samba for "unavailable resources"), then the service's own
    journal lines say why."""
    return (
        f"for attempt in 1 2 3; do systemctl restart {service} && exit 0; sleep 3; done; "
        f"journalctl -u {service} -n 15 --no-pager; exit 1"
    )


def unit_files(
    units: Mapping[str, str], restart: Mapping[str, str] | None = None
) -> list[ManagedFile]:
    """`units` (file name -> content) in /etc/systemd/system; systemd reloads after a change.

    + restart: unit file name -> the service restarted when that file changed
    """
    restart = restart or {}
    return [
        ManagedFile(
            f"{UNIT_DIR}/{unit}",
            content,
            then=(
                DAEMON_RELOAD,
                *((f"systemctl restart {restart[unit]}",) if unit in restart else ()),
            ),
        )
        for unit, content in units.items()
    ]
