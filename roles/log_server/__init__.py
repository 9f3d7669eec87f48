"""roles/log_server: the central log archive (law 5651) — collect, seal by day, keep, prune.

rsyslog receives every estate host over TLS (client certificates of the
estate CA, `bimkit.tls`) and the network devices over plain syslog from
their management addresses; `bimkit-logs` (dr.logs) seals each closed day
with an RFC 3161 time stamp from the data's TSA and prunes past the
retention. Variables: roles/log_server/README.md.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, server

from bimkit.tls import server_tls, ssh_client_key
from roles.log_server.plan import (
    PACKAGES,
    missing_tsa_command,
    plan_log_server,
    tsa_identity,
    unpinned_store_command,
)
from roles.operations import converge, secret_value


@deploy("bimkit log server")
def apply() -> None:
    data = host.data.dict()
    archive = data["log_archive"]
    if not archive["tsa_certificates"]:
        server.shell(name="The TSA's certificates are named in the data",
                     commands=[missing_tsa_command(host.name, archive["tsa_url"])])  # fmt: skip
        return
    store = archive["seal_store"]
    if store and not store["host_keys"]:
        server.shell(name="The DR host's SSH key is pinned",
                     commands=[unpinned_store_command(host.name, store["host"])])  # fmt: skip
        return
    apt.packages(name="rsyslog with TLS, openssl (time stamps), ssh (the chain's copy)",
                 packages=list(PACKAGES))  # fmt: skip
    server.group(name=f"Archive readers {archive['readers']}", group=archive["readers"],
                 system=True)  # fmt: skip
    tls = server_tls(
        secret_value("dr_ca_secret"),
        data["municipality"],
        host.name,
        f"{host.name}.{data['realm']}",
        IPv4Address(data["address"]),
    )
    identity = (tsa_identity(secret_value("tsa_customer_id"), secret_value("tsa_password"))
                if archive["tsa_identity"] else None)  # fmt: skip
    fqdn = f"{host.name}.{data['realm']}"
    store_key = ssh_client_key(secret_value("dr_ca_secret"), f"log seals {fqdn}") if store else None
    plan = plan_log_server(host.name, data, tls, identity, store_key)
    converge(
        name="Collector (rsyslog over TLS, devices by address), archive, seal timer",
        wanted=plan.wanted,
    )
