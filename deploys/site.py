"""The whole estate: every device class's deploy, in order.

pyinfra inventory.py deploys/site.py --dry --diff       # what would change
pyinfra inventory.py deploys/site.py --limit site_zabita
"""

from pyinfra import local

from roles.operations import every_host_done

# pyinfra runs each host's operations as its own chain, side by side: without the
# barriers, the workstations (few operations) would try to join before the DCs exist.
local.include("./base.py")
every_host_done(name="Every host has its base", what="the base role")
local.include("./domain_controllers.py")
every_host_done(name="The DCs serve the realm", what="the domain controllers")
local.include("./log_servers.py")
local.include("./pbx.py")
local.include("./file_servers.py")
local.include("./workstations.py")
every_host_done(name="Every host is in place for its backups", what="its own role")
local.include("./dr.py")
local.include("./switches.py")
