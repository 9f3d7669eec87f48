"""roles/dr_drill: quarterly restore drills on the DR host.

The drill runner and its checks come with the host runtime (roles/dr_runtime);
this role writes the drill's configuration and a quarterly timer whose
failure notifies the admins the way failed backups do. The sandbox image is
built by the first drill.
"""

from __future__ import annotations

from io import StringIO

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, systemd

from dr.paths import DRILL_CONFIG, DRILL_REPORTS_DIR, DRILL_WORK_DIR
from roles.dr_drill.plan import PACKAGES, drill_config, drill_units
from roles.units import unit_files


@deploy("bimkit restore drills")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="Sandbox machines and their image", packages=list(PACKAGES))
    for folder in (DRILL_WORK_DIR, DRILL_REPORTS_DIR):
        files.directory(name=f"Folder {folder}", path=folder, mode="700")
    files.put(
        name=f"What to drill, targets, sandbox ({DRILL_CONFIG})",
        src=StringIO(drill_config(host.name, data)),
        dest=DRILL_CONFIG,
        mode="600",
    )
    unit_files(drill_units(), "drill units")
    systemd.service(
        name="Restore drill every quarter",
        service="bimkit-drill.timer",
        running=True,
        enabled=True,
    )
