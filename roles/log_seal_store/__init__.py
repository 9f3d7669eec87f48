"""roles/log_seal_store: the DR host keeps each log server's chain of seals, add-only.

Variables: roles/log_seal_store/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import server

from bimkit.tls import ssh_client_key
from dr.paths import SEAL_STORE_HOME, SEAL_STORE_USER
from roles.log_seal_store.plan import plan_seal_store
from roles.operations import converge, secret_value


@deploy("bimkit log seal store")
def apply() -> None:
    data = host.data.dict()
    server.user(
        name=f"{SEAL_STORE_USER}: the log servers' account for their chain's copy",
        user=SEAL_STORE_USER,
        system=True,
        home=SEAL_STORE_HOME,
        shell="/bin/sh",  # sshd runs the forced command through it
        create_home=False,
        ensure_home=False,  # root owns it (below): the account cannot touch its own keys
    )
    secret = secret_value("dr_ca_secret")
    keys = {
        name: ssh_client_key(secret, f"log seals {name}.{data['realm']}").public
        for name in data["seal_store"]["log_servers"]
    }
    converge(name="A folder per log server, its key bound to it", wanted=plan_seal_store(keys))
