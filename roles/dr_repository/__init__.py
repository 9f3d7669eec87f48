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

from typing import Any

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt

from bimkit.network_archive import ARCHIVE
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
from roles.managed import ManagedDirectory, ManagedFile, Service, State
from roles.operations import converge, secret_value
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
    wanted: list[State] = [ManagedDirectory(CREDENTIALS_DIR, mode="700")]
    if plan.rest is None:
        credentials = plan.s3_credentials or ""
        wanted.append(ManagedFile(S3_CREDENTIALS_FILE, credentials, mode="600", private=True))
    wanted += [
        ManagedFile(
            f"{CREDENTIALS_DIR}/{protected}.password",
            secret_value(f"restic_password_{secret_key(protected)}") + "\n",
            mode="600",
            private=True,
        )
        for protected in plan.hosts
    ]
    if plan.rest is not None:
        wanted += [
            ManagedFile(f"{CREDENTIALS_DIR}/{protected}.repository", url + "\n", mode="600",
                        private=True)
            for protected, url in plan.rest.admin_urls.items()
        ]  # fmt: skip
    wanted += [
        ManagedDirectory(DR_CACHE, mode="700"),
        ManagedFile(DR_CONFIG, plan.dr_config, mode="600"),
        *unit_files(plan.units, restart={ADMIN_UNIT: ADMIN_UNIT}),
        *([Service(ADMIN_UNIT)] if plan.rest is not None else []),
        *(Service(f"{job}.timer") for job in JOBS),
    ]
    converge(name=f"Credentials, {DR_CONFIG}, retention and check timers", wanted=wanted)
    converge(
        name=f"The switches' configuration archive ({ARCHIVE}, filled by bimkit net backup)",
        wanted=[
            ManagedDirectory(ARCHIVE, mode="700"),
            ManagedFile(f"{ARCHIVE}/README", ARCHIVE_README, mode="600"),
        ],
    )


ARCHIVE_README = (
    "The switches' running configurations, one <switch>.cfg each, archived by\n"
    "`bimkit net backup` (git: one commit per run; `bimkit net history SWITCH`).\n"
)


ADMIN_UNIT = "bimkit-rest-admin.service"
"""A loopback-only rest-server that may delete: retention, checks and drills use it."""
REST_SERVER_RESTART = ("systemctl restart restic-rest-server",)


def rest_server(plan: RestServerPlan) -> None:
    """The append-only rest-server the hosts write to, and the admin instance's credential."""
    htpasswd_file(
        name=f"One append-only credential per protected host ({HTPASSWD})",
        path=HTPASSWD,
        credentials=plan.credentials,
        group=SERVICE_USER,
        then=REST_SERVER_RESTART,
    )
    # Before the admin instance's unit exists on a first deploy: restarted only if it runs
    # (`converge` below starts it either way, and fails loudly if it cannot).
    htpasswd_file(
        name=f"Admin credential ({ADMIN_HTPASSWD})",
        path=ADMIN_HTPASSWD,
        credentials=plan.admin_credentials,
        group=SERVICE_USER,
        then=(f"systemctl try-restart {ADMIN_UNIT} || true",),
    )
    converge(
        name="restic-rest-server: append-only, private repositories, TLS",
        wanted=[
            ManagedDirectory(DATA_DIR, mode="750", user=SERVICE_USER, group=SERVICE_USER),
            ManagedFile(KEY, plan.tls.key_pem, mode="640", group=SERVICE_USER, private=True,
                        then=REST_SERVER_RESTART),
            ManagedFile(CERTIFICATE, plan.tls.certificate_pem, then=REST_SERVER_RESTART),
            ManagedFile(DEFAULTS, plan.defaults, then=REST_SERVER_RESTART),
            Service("restic-rest-server.service"),
        ],
    )  # fmt: skip
