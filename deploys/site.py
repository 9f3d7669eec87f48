"""The whole estate: every role on every host that has it.

pyinfra inventory.py deploys/site.py --dry --diff       # what would change
pyinfra inventory.py deploys/site.py --limit site_zabita
"""

from pyinfra import host

from roles import backup_agent, base, domain_controller, dr_drill, dr_repository

if host.data.get("dc_role"):
    domain_controller.check_realm()
if host.data.get("os") == "debian":
    base.apply()
if host.data.get("dc_role"):
    domain_controller.apply()
if host.data.get("os") == "debian" and host.data.get("repositories"):
    dr_repository.apply()
if host.data.get("os") == "debian" and host.data.get("backup_policies"):
    backup_agent.apply()
if host.data.get("os") == "debian" and host.data.get("drill"):
    dr_drill.apply()
