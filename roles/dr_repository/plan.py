"""What the DR repository host gets, from its inventory data and the secrets (pure)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

import bcrypt

from bimkit.secrets import S3_KEY_NAMES, secret_key
from bimkit.tls import ServerTls, server_tls
from dr import restic
from dr.config import DrConfig, Retention, ServiceRetention, to_json
from dr.paths import (
    CREDENTIALS_DIR,
    DR_CACHE,
    DR_TOOL,
    REPOSITORIES_DIR,
    S3_CREDENTIALS_FILE,
)
from roles.templates import render

PACKAGES = ("restic", "git")  # git: the switches' configuration archive (bimkit net backup)
"""The jobs themselves come with the host runtime (roles/dr_runtime)."""
REST_SERVER_PACKAGE = "restic-rest-server"
PORT = 8000
DATA_DIR = REPOSITORIES_DIR
CONFIG_DIR = "/etc/restic-rest-server"
HTPASSWD = f"{CONFIG_DIR}/users.htpasswd"
CERTIFICATE = f"{CONFIG_DIR}/server.pem"
KEY = f"{CONFIG_DIR}/server.key"
DEFAULTS = "/etc/default/restic-rest-server"
ADMIN_PORT = 8001
ADMIN_HTPASSWD = f"{CONFIG_DIR}/admin.htpasswd"
ADMIN_USER = "admin"
JOBS = {
    # name -> (what it does, command, OnCalendar)
    "bimkit-dr-forget": (
        "retention: forget --prune per policy",
        f"{DR_TOOL} forget",
        "*-*-* 05:00",
    ),
    "bimkit-dr-check": (
        "check this week's 1/13 of every repository",
        f"{DR_TOOL} check",
        "Sun *-*-* 06:00",
    ),
}
SERVICE_USER = "restic-rest-server"
BCRYPT_ROUNDS = 10


def rest_server_defaults(log: str | None = None) -> str:
    return render(
        "dr_repository/restic-rest-server.j2",
        port=PORT,
        data_dir=DATA_DIR,
        htpasswd=HTPASSWD,
        certificate=CERTIFICATE,
        key=KEY,
        log=log,
    )


def htpasswd(credentials: Mapping[str, str], current: str = "") -> str:
    """`user:bcrypt` lines for rest-server, one per credential, in name order.

    + credentials: user -> password
    + current: the file as the host has it; a line whose hash still matches its
      password is kept as it is, so the file changes only when a credential does

    A new or changed password gets a random salt: a salt derived from the
    password would let one SHA-256 test a guess, cancelling bcrypt's cost.
    """
    hashes = dict(line.split(":", 1) for line in current.splitlines() if ":" in line)

    def line(credential: tuple[str, str]) -> str:
        user, password = credential
        known = hashes.get(user, "").encode()
        weak = known[7:29] == _derived_salt(user, password)
        if weak or not (known and bcrypt.checkpw(password.encode(), known)):
            known = bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS))
        return f"{user}:{known.decode()}"

    # bcrypt releases the GIL: the checks of every host's credential run side by side.
    with ThreadPoolExecutor() as pool:
        lines = pool.map(line, sorted(credentials.items()))
        return "\n".join(lines) + "\n"


def _derived_salt(user: str, password: str) -> bytes:
    """The salt bimkit derived from the credential before 2026-12: lines with it are rehashed."""
    digest = hashlib.sha256(f"bimkit htpasswd\0{user}\0{password}".encode()).digest()
    return base64.b64encode(digest[:16]).decode().translate(_TO_BCRYPT)[:22].encode()


_TO_BCRYPT = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)
"""Standard base64 digits to bcrypt's."""


@dataclass(frozen=True)
class RestServerPlan:
    """The rest-server the hosts write to, and its loopback admin instance."""

    defaults: str
    credentials: Mapping[str, str]
    """host -> its password (rest-server's htpasswd, hashed on the host's side)."""
    admin_credentials: Mapping[str, str]
    tls: ServerTls
    admin_urls: Mapping[str, str]
    """host -> the admin instance's URL of its repository, with the admin credential."""


@dataclass(frozen=True)
class RepositoryPlan:
    hosts: tuple[str, ...]
    """The protected hosts, each with a repository."""
    dr_config: str
    units: Mapping[str, str]
    """unit file name -> content: the retention and check jobs (and the admin instance)."""
    rest: RestServerPlan | None
    """None when the repositories live in S3 (`dr_repository: s3`)."""
    s3_credentials: str | None
    """With S3: the DR jobs' AWS credentials file (S3_CREDENTIALS_FILE)."""


def uses_s3(data: Mapping[str, Any]) -> bool:
    return "dr_s3" in data


def admin_url(host: str, credential: str = "") -> str:
    userinfo = f"{ADMIN_USER}:{credential}@" if credential else ""
    return f"rest:http://{userinfo}127.0.0.1:{ADMIN_PORT}/{host}/"


def dr_config(data: Mapping[str, Any]) -> str:
    """/etc/bimkit/dr.json, read by bimkit-dr: every repository's services and their policies.

    `admin_url` is where the repositories are (`<admin_url>/<host>`); with S3,
    `credentials_file` holds the access key and there is no local `data_dir`.
    """
    s3 = uses_s3(data)
    config = DrConfig(
        admin_url=restic.s3_url(data["dr_s3"]["endpoint"], data["dr_s3"]["bucket"])
        if s3
        else f"rest:http://127.0.0.1:{ADMIN_PORT}",
        data_dir=None if s3 else DATA_DIR,
        credentials_file=S3_CREDENTIALS_FILE if s3 else None,
        credentials_dir=CREDENTIALS_DIR,
        cache_dir=DR_CACHE,
        master_keys=f"{DR_CACHE}/master-keys",
        repositories={
            host: {
                service: ServiceRetention(Retention(**policy["retention"]), policy["rpo_seconds"])
                for service, policy in services.items()
            }
            for host, services in data["repositories"].items()
        },
        timezone=data["timezone"],
    )
    return to_json(config)


def dr_units(rest_server: bool) -> dict[str, str]:
    units = {}
    if rest_server:
        units["bimkit-rest-admin.service"] = render(
            "dr_repository/bimkit-rest-admin.service.j2",
            public_port=PORT,
            port=ADMIN_PORT,
            data_dir=DATA_DIR,
            htpasswd=ADMIN_HTPASSWD,
        )
    for name, (description, command, schedule) in JOBS.items():
        units[f"{name}.service"] = render(
            "dr_repository/bimkit-dr-job.service.j2", description=description, command=command
        )
        units[f"{name}.timer"] = render(
            "dr_repository/bimkit-dr-job.timer.j2", description=description, schedule=schedule
        )
    return units


def plan_rest_server(
    hostname: str, data: Mapping[str, Any], hosts: tuple[str, ...], secrets: Mapping[str, str]
) -> RestServerPlan:
    credentials = {host: secrets[f"repository_password_{secret_key(host)}"] for host in hosts}
    admin = secrets["dr_admin_password"]
    tls = server_tls(
        secrets["dr_ca_secret"],
        data["municipality"],
        hostname,
        f"{hostname}.{data['realm']}",
        IPv4Address(data["address"]),
    )
    return RestServerPlan(
        defaults=rest_server_defaults(),
        credentials=credentials,
        admin_credentials={ADMIN_USER: admin},
        tls=tls,
        admin_urls={host: admin_url(host, admin) for host in hosts},
    )


def plan_repository(
    hostname: str, data: Mapping[str, Any], secrets: Mapping[str, str]
) -> RepositoryPlan:
    """+ secrets: see `secret_names`."""
    hosts = tuple(sorted(data["repositories"]))
    s3 = uses_s3(data)
    return RepositoryPlan(
        hosts=hosts,
        dr_config=dr_config(data),
        units=dr_units(rest_server=not s3),
        rest=None if s3 else plan_rest_server(hostname, data, hosts, secrets),
        s3_credentials=restic.aws_credentials(*(secrets[f"s3_{name}"] for name in S3_KEY_NAMES))
        if s3
        else None,
    )


def secret_names(data: Mapping[str, Any]) -> list[str]:
    """The secrets `plan_repository` needs: the rest-server's credentials, or the S3 key."""
    if uses_s3(data):
        return [f"s3_{name}" for name in S3_KEY_NAMES]
    return [
        "dr_ca_secret",
        "dr_admin_password",
        *(f"repository_password_{secret_key(h)}" for h in sorted(data["repositories"])),
    ]
