"""roles/base: what every Linux host of the estate has.

Hostname and /etc/hosts, timezone, chrony following the DCs, the apt proxy,
unattended-upgrades, rsyslog forwarding to the log server, SSH keys only,
and a sudo group for the directorate's admins. Tunables: `roles.base.plan.BaseVars`.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, server, systemd

from bimkit.tls import client_tls
from roles.base.plan import log_collectors, plan_base
from roles.facts import ContainerType
from roles.operations import converge, secret_value


@deploy("bimkit base")
def apply() -> None:
    data = host.data.dict()
    forward_tls = None
    if log_collectors(data):
        fqdn = f"{host.name}.{data['realm']}"
        forward_tls = client_tls(secret_value("dr_ca_secret"), data["municipality"], fqdn)
    plan = plan_base(host.name, data, host.get_fact(ContainerType) != "none", forward_tls)
    # The proxy comes first: on a fresh lab machine it is the only way to the mirror.
    if plan.apt_proxy is not None:
        converge(name=f"apt proxy ({plan.apt_proxy.path})", wanted=[plan.apt_proxy])
    apt.packages(
        name="Base packages",
        packages=list(plan.packages),
        update=True,
        cache_time=plan.apt_cache_seconds,
    )
    server.hostname(name="Hostname", hostname=plan.hostname)
    timezone = server.timezone(name="Timezone", timezone=plan.timezone)
    # rsyslog reads the zone once, when it starts: until restarted it stamps lines and, on
    # the log server, names the day files by the zone before (a day would end at 21:00 UTC
    # on one host and at midnight on another).
    systemd.service(name="rsyslog takes the new timezone", service="rsyslog.service",
                    restarted=True, _if=timezone.did_change)  # fmt: skip
    server.group(name=f"Admin group {plan.admin_group}", group=plan.admin_group, system=True)
    converge(
        name="hosts, DNS, chrony, unattended-upgrades, rsyslog, sshd, sudo",
        wanted=plan.wanted(),
    )
