"""The whole estate: every device class's deploy, in order.

pyinfra inventory.py deploys/site.py --dry --diff       # what would change
pyinfra inventory.py deploys/site.py --limit site_zabita
"""

from pyinfra import local

for deploy in (
    "base.py",
    "domain_controllers.py",
    "log_servers.py",
    "pbx.py",
    "workstations.py",
    "dr.py",
):
    local.include(f"./{deploy}")
