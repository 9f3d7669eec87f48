"""roles/file_server: the departments' shares on a Samba member server.

Variables: roles/file_server/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt

from roles.file_server.operations import folders_shared, homes_follow_renames, member_server
from roles.file_server.plan import PACKAGES, before_join, serving
from roles.operations import converge


@deploy("bimkit file server")
def apply() -> None:
    data = host.data.dict()
    apt.packages(name="Samba (member server), winbind", packages=list(PACKAGES))
    converge(name="Kerberos, Samba and nsswitch settings (/etc/krb5.conf, /etc/samba/smb.conf)",
             wanted=before_join(host.name, data))  # fmt: skip
    member_server(name=f"Member server of {data['realm']}", data=data)
    converge(name="Shares' root and homes, winbind and smbd", wanted=serving(data))
    folders_shared(name="Shares and unit folders with their groups' ACLs", data=data)
    homes_follow_renames(name="Home folders of renamed people under their new names", data=data)
