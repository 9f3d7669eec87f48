"""The domain controllers: Samba AD, the directory, DNS, signed NTP, SYSVOL, DHCP (Kea).

pyinfra inventory.py deploys/domain_controllers.py [--limit dc1]
"""

from pyinfra import host

from roles import dhcp_server, domain_controller

if host.data.get("dc_role"):
    domain_controller.check_realm()
    domain_controller.apply()
    if host.data.get("os") == "debian" and host.data.get("dhcp", {}).get("subnets"):
        dhcp_server.apply()
