"""roles/base: what every Linux host of the estate has.

Hostname and /etc/hosts, timezone, chrony following the DCs, the apt proxy,
unattended-upgrades, rsyslog forwarding to the log server, SSH keys only,
and a sudo group for the directorate's admins. Tunables: `roles.base.plan.BaseVars`.
"""

from __future__ import annotations

from io import StringIO

from pyinfra.api.deploy import deploy
from pyinfra.api.operation import OperationMeta
from pyinfra.context import host
from pyinfra.operations import apt, files, server, systemd

from roles.base.plan import ManagedFile, plan_base
from roles.facts import ContainerType


def _put(managed: ManagedFile, name: str) -> OperationMeta:
    return files.put(
        name=f"{name} ({managed.path})",
        src=StringIO(managed.content),
        dest=managed.path,
        user="root",
        group="root",
        mode=managed.mode,
    )


@deploy("bimkit base")
def apply() -> None:
    plan = plan_base(host.name, host.data.dict(), host.get_fact(ContainerType) != "none")

    for path in plan.absent:
        files.file(name=f"Not wanted here: {path}", path=path, present=False)
    # The proxy comes first: on a fresh lab machine it is the only way to the mirror.
    if plan.apt_proxy is not None:
        _put(plan.apt_proxy, "apt proxy")
    apt.packages(
        name="Base packages",
        packages=list(plan.packages),
        update=True,
        cache_time=plan.apt_cache_seconds,
    )

    server.hostname(name="Hostname", hostname=plan.hostname)
    _put(plan.hosts, "Estate hosts")
    _put(plan.resolv, "DNS through the DCs")
    server.timezone(name="Timezone", timezone=plan.timezone)

    chrony_conf = _put(plan.chrony, "chrony follows the DCs")
    container_dropin = (
        _put(plan.chrony_container, "chrony keeps time without setting the clock")
        if plan.chrony_container is not None
        else None
    )
    systemd.service(
        name="chrony running",
        service="chrony",
        running=True,
        enabled=True,
        restarted=chrony_conf.will_change,
        daemon_reload=bool(container_dropin and container_dropin.will_change),
    )

    _put(plan.auto_upgrades, "unattended-upgrades")

    forward = (
        _put(plan.syslog_forward, "rsyslog forwards to the log server")
        if plan.syslog_forward is not None
        else None
    )
    systemd.service(
        name="rsyslog running",
        service="rsyslog",
        running=True,
        enabled=True,
        restarted=bool(forward and forward.will_change),
    )

    sshd = _put(plan.sshd, "SSH: keys only")
    server.shell(name="sshd configuration is valid", commands=["sshd -t"], _if=sshd.did_change)
    systemd.service(name="sshd reloaded", service="ssh", reloaded=sshd.will_change)

    server.group(name=f"Admin group {plan.admin_group}", group=plan.admin_group, system=True)
    _put(plan.sudoers, f"sudo for {plan.admin_group}")
