"""Staff workstations: joined to the domain, AD sign-in, banner and screen lock.

pyinfra inventory.py deploys/workstations.py [--limit site_zabita]
"""

from pyinfra import host

from roles import workstation

if host.data.get("workstation"):
    workstation.apply()
