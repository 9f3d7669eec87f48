"""The base state of every Linux host: hostname, DNS, time, apt, syslog, SSH, sudo.

pyinfra inventory.py deploys/base.py [--limit GROUP]
"""

from pyinfra import host

from roles import base, domain_controller

if host.data.get("dc_role"):
    domain_controller.check_realm()  # a DC of another realm is left untouched
if host.data.get("os") == "debian":
    base.apply()
