"""roles/dr_repository: the restic repositories at the disaster-recovery centre.

restic's rest-server (Debian's restic-rest-server) in append-only mode with
private repositories: each protected host may add snapshots to its own
repository and can neither delete nor read another's. TLS with the DR CA
(bimkit.tls); one htpasswd credential per host. Retention and checks
run on this host through a second, loopback-only instance that may delete.

With `dr_repository: s3` the repositories are prefixes of the DR bucket
(`bimkit dr s3 provision` sets it up); this host then gets only the DR
jobs, which use the S3 key `s3_access_key_id`/`s3_secret_access_key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import StringIO
from typing import Any

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, files, systemd

from bimkit.secrets import SecretSpec, load_secrets, secret_key
from dr.paths import CREDENTIALS_DIR, DR_CACHE, DR_CONFIG, S3_CREDENTIALS_FILE
from roles.dr_repository.operations import htpasswd_file
from roles.dr_repository.plan import (
    ADMIN_HTPASSWD,
    CERTIFICATE,
    DATA_DIR,
    DEFAULTS,
    HTPASSWD,
    JOBS,
    KEY,
    PACKAGES,
    REST_SERVER_PACKAGE,
    SERVICE_USER,
    RestServerPlan,
    plan_repository,
    secret_names,
)
from roles.operations import private_file, secret_file
from roles.units import unit_files


def _secrets(data: dict[str, Any]) -> dict[str, str]:
    names = secret_names(data)
    found = load_secrets([SecretSpec(name, "", host.name) for name in names])
    return {name: found.get(name) for name in names}


@deploy("bimkit DR repository")
def apply() -> None:
    data = host.data.dict()
    plan = plan_repository(host.name, data, _secrets(data))
    rest_package = [REST_SERVER_PACKAGE] if plan.rest is not None else []
    apt.packages(name="restic, its REST server", packages=[*rest_package, *PACKAGES])
    if plan.rest is not None:
        rest_server(plan.rest)
    else:
        private_file(
            name=f"The DR jobs' S3 access key ({S3_CREDENTIALS_FILE})",
            path=S3_CREDENTIALS_FILE,
            content=plan.s3_credentials or "",
            mode="600",
        )
    for protected in plan.hosts:
        secret_file(
            name=f"{protected}'s repository password ({CREDENTIALS_DIR}/{protected}.password)",
            secret=f"restic_password_{secret_key(protected)}",
            path=f"{CREDENTIALS_DIR}/{protected}.password",
        )
    files.directory(name=f"Folder {DR_CACHE}", path=DR_CACHE, mode="700")
    files.put(
        name=f"Repositories, retention and RPO ({DR_CONFIG})",
        src=StringIO(plan.dr_config),
        dest=DR_CONFIG,
        mode="600",
    )
    units = unit_files(plan.units, "DR units")
    if plan.rest is not None:
        admin_instance(plan.rest, units)
    for job in JOBS:
        systemd.service(name=f"{job}.timer", service=f"{job}.timer", running=True, enabled=True)


def rest_server(plan: RestServerPlan) -> None:
    """The append-only rest-server the hosts write to."""
    files.directory(
        name=f"Repositories ({DATA_DIR})",
        path=DATA_DIR,
        user=SERVICE_USER,
        group=SERVICE_USER,
        mode="750",
    )
    public = [
        private_file(
            name=f"TLS key ({KEY})", path=KEY, content=plan.tls.key_pem, group=SERVICE_USER
        ),
        files.put(
            name=f"TLS certificate ({CERTIFICATE})",
            src=StringIO(plan.tls.certificate_pem),
            dest=CERTIFICATE,
            mode="644",
        ),
        htpasswd_file(
            name=f"One append-only credential per protected host ({HTPASSWD})",
            path=HTPASSWD,
            credentials=plan.credentials,
            group=SERVICE_USER,
        ),
        files.put(
            name=f"Append-only, private repositories, TLS ({DEFAULTS})",
            src=StringIO(plan.defaults),
            dest=DEFAULTS,
            mode="644",
        ),
    ]
    systemd.service(
        name="restic-rest-server running (append-only, for the hosts)",
        service="restic-rest-server",
        running=True,
        enabled=True,
        restarted=any(change.will_change for change in public),
    )


def admin_instance(plan: RestServerPlan, units: Mapping[str, Any]) -> None:
    """A loopback-only instance that may delete, for retention and checks."""
    admin_htpasswd = htpasswd_file(
        name=f"Admin credential ({ADMIN_HTPASSWD})",
        path=ADMIN_HTPASSWD,
        credentials=plan.admin_credentials,
        group=SERVICE_USER,
    )
    for protected, url in plan.admin_urls.items():
        private_file(
            name=f"{protected}'s repository through the admin instance",
            path=f"{CREDENTIALS_DIR}/{protected}.repository",
            content=url + "\n",
            mode="600",
        )
    systemd.service(
        name="bimkit-rest-admin running (loopback, may delete)",
        service="bimkit-rest-admin",
        running=True,
        enabled=True,
        restarted=admin_htpasswd.will_change or units["bimkit-rest-admin.service"].will_change,
    )
