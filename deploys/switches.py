"""The switches: each one's running configuration brought to its port plan.

pyinfra inventory.py deploys/switches.py [--dry] [--limit site_zabita]
"""

from pyinfra import host

from roles import switch

if host.data.get("switch"):
    switch.apply()
