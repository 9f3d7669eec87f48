"""roles/dr_drill: quarterly restore drills on the DR host.

The drill runner and its checks come with the host runtime (roles/dr_runtime);
this role writes the drill's configuration and a quarterly timer whose
failure notifies the admins the way failed backups do. The sandbox image is
built by the first drill.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt

from dr.paths import DRILL_CONFIG, DRILL_REPORTS_DIR, DRILL_WORK_DIR, TSA_CA_FILE
from roles.dr_drill.plan import PACKAGES, drill_config, drill_units
from roles.managed import ManagedDirectory, ManagedFile, Service
from roles.operations import converge
from roles.units import unit_files


@deploy("bimkit restore drills")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="Sandbox machines and their image", packages=list(PACKAGES))
    converge(
        name=f"Drill folders, {DRILL_CONFIG}, the quarterly timer",
        wanted=[
            ManagedDirectory(DRILL_WORK_DIR, mode="700"),
            ManagedDirectory(DRILL_REPORTS_DIR, mode="700"),
            ManagedFile(DRILL_CONFIG, drill_config(host.name, data), mode="600"),
            *unit_files(drill_units()),
            Service("bimkit-drill.timer"),
            # The log archive's tokens must be stamped under the TSA the data names.
            *(
                [ManagedFile(TSA_CA_FILE, data["drill"]["tsa_certificates"])]
                if data["drill"]["tsa_certificates"]
                else []
            ),
        ],
    )
