"""roles/workstation: a staff workstation, joined to the domain, signed in to with AD accounts.

Variables: roles/workstation/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.files import FindInFile
from pyinfra.operations import apt, server

from roles.operations import converge, secret_value
from roles.workstation.operations import joined
from roles.workstation.plan import MKHOMEDIR, PACKAGES, before_join, wanted


@deploy("bimkit workstation")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="realmd, adcli, sssd", packages=list(PACKAGES))
    converge(name="realmd and Kerberos settings (/etc/realmd.conf, /etc/krb5.conf)",
             wanted=before_join(data))  # fmt: skip
    joined(name=f"Member of {data['realm']} (computer account in its site's OU)",
           realm=data["realm"], data=data, password=secret_value("ad_admin_password"))  # fmt: skip
    converge(name="sssd, SSH sign-in, banner, screen lock", wanted=wanted(data))
    pam = host.get_fact(FindInFile, path="/etc/pam.d/common-session", pattern="pam_mkhomedir")
    if not pam:
        server.shell(name="Home directory made at first sign-in (pam_mkhomedir)",
                     commands=[MKHOMEDIR])  # fmt: skip
