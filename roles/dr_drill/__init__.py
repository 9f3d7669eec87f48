"""roles/dr_drill: quarterly restore drills on the DR host.

Installs the drill runner (bimkit.drill with bimkit.sandbox, beside
restic's runner), the checks admins can read and extend (drills/), its
configuration and a quarterly timer whose failure notifies the admins the
way failed backups do. The sandbox image is built by the first drill.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, systemd

from roles.dr_drill.plan import (
    CONFIG,
    DRILL_TOOL,
    LIBRARY,
    MODULES,
    NOTIFIER,
    PACKAGES,
    REPORTS_DIR,
    SPECS_DIR,
    WORK_DIR,
    drill_config,
    drill_units,
)
from roles.units import unit_files

REPOSITORY = Path(__file__).resolve().parents[2]


@deploy("bimkit restore drills")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="Sandbox machines, their image, the report", packages=list(PACKAGES))
    folders = sorted({str(Path(LIBRARY, module).parent) for module in MODULES})
    for folder in (*folders, SPECS_DIR):
        files.directory(name=f"Folder {folder}", path=folder, mode="755")
    for folder in (WORK_DIR, REPORTS_DIR):
        files.directory(name=f"Folder {folder}", path=folder, mode="700")
    for module in MODULES:
        files.put(
            name=f"bimkit's drill runner: {module}",
            src=str(REPOSITORY / module),
            dest=f"{LIBRARY}/{module}",
            mode="644",
        )
    for spec in sorted((REPOSITORY / "drills").glob("test_*.py")):
        files.put(name=f"Drill checks: {spec.name}", src=str(spec), dest=f"{SPECS_DIR}/{spec.name}")
    for source, destination in (
        (REPOSITORY / "files" / "dr_drill" / "bimkit-drill", DRILL_TOOL),
        (REPOSITORY / "files" / "backup_agent" / "bimkit-backup-notify", NOTIFIER),
    ):
        files.put(name=f"bimkit: {destination}", src=str(source), dest=destination, mode="755")
    files.put(
        name=f"What to drill, targets, sandbox ({CONFIG})",
        src=StringIO(drill_config(host.name, data)),
        dest=CONFIG,
        mode="600",
    )
    unit_files(drill_units(), "drill units")
    systemd.service(
        name="Restore drill every quarter",
        service="bimkit-drill.timer",
        running=True,
        enabled=True,
    )
