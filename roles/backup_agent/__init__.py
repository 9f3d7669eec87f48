"""roles/backup_agent: restic backups of a host's protected services to the DR repository.

One systemd timer per protected service starts bimkit-backup@<service>; the
agent runs the service's pre-hooks, backs up with restic through the
host's append-only credential, runs the post-hooks and writes node_exporter
metrics. A failed run fails its unit, which starts the notification unit.
"""

from __future__ import annotations

import posixpath

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt

from bimkit.secrets import S3_KEY_NAMES, secret_key
from bimkit.tls import ca_certificate
from dr import restic
from dr.paths import (
    BACKUP_CONFIG,
    CA_CERTIFICATE,
    CACHE_DIR,
    MANIFESTS_DIR,
    METRICS_DIR,
    PASSWORD_FILE,
    REPOSITORY_FILE,
    S3_CREDENTIALS_FILE,
)
from roles.backup_agent.plan import plan_agent, repository_url
from roles.dr_repository.plan import uses_s3
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.operations import converge, secret_value
from roles.units import unit_files


@deploy("bimkit backup agent")
def apply() -> None:
    data = host.data.dict()
    plan = plan_agent(host.name, data)
    key = secret_key(host.name)
    # The agent itself comes with the host runtime (roles/dr_runtime).
    apt.packages(name="restic", packages=["restic"])
    wanted: list[State] = [
        ManagedDirectory(posixpath.dirname(PASSWORD_FILE), mode="700"),
        ManagedFile(PASSWORD_FILE, secret_value(f"restic_password_{key}") + "\n", mode="600",
                    private=True),
    ]  # fmt: skip
    if uses_s3(data):
        s3_key = [secret_value(f"s3_{name}_{key}") for name in S3_KEY_NAMES]
        credentials = restic.aws_credentials(*s3_key)
        wanted.append(ManagedFile(S3_CREDENTIALS_FILE, credentials, mode="600", private=True))
    else:
        ca = ca_certificate(secret_value("dr_ca_secret"), data["municipality"])
        url = repository_url(data, host.name, secret_value(f"repository_password_{key}"))
        wanted += [
            ManagedFile(CA_CERTIFICATE, ca),
            ManagedFile(REPOSITORY_FILE, url + "\n", mode="600", private=True),
        ]
    wanted += [ManagedDirectory(folder) for folder in (CACHE_DIR, METRICS_DIR, MANIFESTS_DIR)]
    wanted.append(ManagedFile(BACKUP_CONFIG, plan.config, mode="600"))
    wanted += unit_files(plan.units)
    wanted += [Service(f"bimkit-backup@{service}.timer") for service in plan.services]
    converge(
        name=f"Repository, credentials, {BACKUP_CONFIG}, timers of {', '.join(plan.services)}",
        wanted=wanted,
    )
