"""roles/workstation: a staff workstation, joined to the domain, signed in to with AD accounts.

Variables: roles/workstation/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt

from roles.operations import converge
from roles.workstation.operations import home_made_at_first_sign_in, joined
from roles.workstation.plan import PACKAGES, before_join, wanted


@deploy("bimkit workstation")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="realmd, adcli, sssd", packages=list(PACKAGES))
    converge(name="realmd and Kerberos settings (/etc/realmd.conf, /etc/krb5.conf)",
             wanted=before_join(data))  # fmt: skip
    joined(name=f"Member of {data['realm']} (computer account in its site's OU)",
           realm=data["realm"], data=data)  # fmt: skip
    converge(name="sssd, SSH sign-in, banner, screen lock", wanted=wanted(data))
    home_made_at_first_sign_in(name="Home directory made at first sign-in (pam_mkhomedir)")
