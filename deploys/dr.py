"""Backups and the DR centre: the host runtime, the DR repository, backup agents, drills.

pyinfra inventory.py deploys/dr.py [--limit fs1]
"""

from pyinfra import host

from roles import backup_agent, dr_drill, dr_repository, dr_runtime

if host.data.get("os") == "debian":
    if host.data.get("backup_policies") or host.data.get("repositories"):
        dr_runtime.apply()
    if host.data.get("repositories"):
        dr_repository.apply()
    if host.data.get("backup_policies"):
        backup_agent.apply()
    if host.data.get("drill"):
        dr_drill.apply()
