"""The IP PBX: Asterisk from the people and site data.

pyinfra inventory.py deploys/pbx.py [--limit pbx1]
"""

from pyinfra import host

from roles import pbx

if host.data.get("pbx"):
    pbx.apply()
