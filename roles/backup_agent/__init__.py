"""roles/backup_agent: restic backups of a host's protected services to the DR repository.

One systemd timer per protected service starts bimkit-backup@<service>; the
agent runs the service's pre-hooks, backs up with restic through the
host's append-only credential, runs the post-hooks and writes node_exporter
metrics. A failed run fails its unit, which starts the notification unit.
"""

from __future__ import annotations

from io import StringIO

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, systemd

from bimkit.secrets import S3_KEY_NAMES, SecretSpec, load_secrets, secret_key
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
from roles.operations import private_file, secret_file
from roles.units import unit_files


@deploy("bimkit backup agent")
def apply() -> None:
    data = host.data.dict()
    plan = plan_agent(host.name, data)
    key = secret_key(host.name)
    # The agent itself comes with the host runtime (roles/dr_runtime).
    apt.packages(name="restic", packages=["restic"])
    secret_file(
        name="Repository password (encrypts this host's backups)",
        secret=f"restic_password_{key}",
        path=PASSWORD_FILE,
    )
    if uses_s3(data):
        s3_key = load_secrets(
            [SecretSpec(f"s3_{name}_{key}", "", host.name) for name in S3_KEY_NAMES]
        )
        private_file(
            name=f"This host's S3 access key ({S3_CREDENTIALS_FILE})",
            path=S3_CREDENTIALS_FILE,
            content=restic.aws_credentials(
                *(s3_key.get(f"s3_{name}_{key}") for name in S3_KEY_NAMES)
            ),
            mode="600",
        )
    else:
        ca_secret = load_secrets([SecretSpec("dr_ca_secret", "", host.name)]).get("dr_ca_secret")
        files.put(
            name=f"DR CA certificate ({CA_CERTIFICATE})",
            src=StringIO(ca_certificate(ca_secret, data["municipality"])),
            dest=CA_CERTIFICATE,
            mode="644",
        )
        credential = load_secrets([SecretSpec(f"repository_password_{key}", "", host.name)])
        private_file(
            name=f"DR repository with this host's append-only credential ({REPOSITORY_FILE})",
            path=REPOSITORY_FILE,
            content=repository_url(data, host.name, credential.get(f"repository_password_{key}"))
            + "\n",
            mode="600",
        )
    for folder in (CACHE_DIR, METRICS_DIR, MANIFESTS_DIR):
        files.directory(name=f"Folder {folder}", path=folder, mode="755")
    files.put(
        name=f"What to back up, hooks, repository ({BACKUP_CONFIG})",
        src=StringIO(plan.config),
        dest=BACKUP_CONFIG,
        mode="600",
    )
    unit_files(plan.units, "backup units")
    for service in plan.services:
        systemd.service(
            name=f"Backup of {service} on schedule",
            service=f"bimkit-backup@{service}.timer",
            running=True,
            enabled=True,
        )
