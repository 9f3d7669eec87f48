"""The whole estate: every device class's deploy, in order.

pyinfra inventory.py deploys/site.py --dry --diff       # what would change
pyinfra inventory.py deploys/site.py --limit site_zabita
"""

from pyinfra import local

# One line each: pyinfra orders operations by the line numbers of their calls, starting
# here, so every device class's operations run after those of the class above it (the
# workstations join only once the DCs serve the realm; in a loop they interleaved).
local.include("./base.py")
local.include("./domain_controllers.py")
local.include("./log_servers.py")
local.include("./pbx.py")
local.include("./workstations.py")
local.include("./dr.py")
