"""The domain controllers: Samba AD, the directory from directory/, DNS, signed NTP, SYSVOL.

pyinfra inventory.py deploys/domain_controllers.py [--limit dc1]
"""

from pyinfra import host

from roles import domain_controller

if host.data.get("dc_role"):
    domain_controller.check_realm()
    domain_controller.apply()
