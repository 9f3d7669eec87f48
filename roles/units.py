"""systemd unit files the roles install, and the reload that makes systemd see them."""

from __future__ import annotations

from collections.abc import Mapping
from io import StringIO

from pyinfra.api.operation import OperationMeta
from pyinfra.operations import files, systemd

UNIT_DIR = "/etc/systemd/system"


def unit_files(units: Mapping[str, str], what: str) -> dict[str, OperationMeta]:
    """Put `units` (file name -> content) into /etc/systemd/system; reload systemd if one changed.

    Returns each unit's operation, for `restarted=` of the services that use it.
    """
    puts = {
        unit: files.put(
            name=f"{what}: {unit}", src=StringIO(content), dest=f"{UNIT_DIR}/{unit}", mode="644"
        )
        for unit, content in units.items()
    }
    systemd.daemon_reload(
        name=f"systemd sees the {what}", _if=lambda: any(put.did_change() for put in puts.values())
    )
    return puts
