"""What a protected host's backup agent gets, from its inventory data (pure)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dr import restic
from dr.asterisk import counts_file
from dr.config import BackupConfig, Notify, RepositoryAccess, ServiceBackup, to_json
from dr.paths import (
    AGENT,
    CA_CERTIFICATE,
    CACHE_DIR,
    MANIFEST_TOOL,
    MANIFESTS_DIR,
    METRICS_DIR,
    NOTIFIER,
    PASSWORD_FILE,
    PBX_COUNTS_TOOL,
    REPOSITORY_FILE,
    S3_CREDENTIALS_FILE,
)
from roles.domain_controller.plan import AD_BACKUP_HOOK
from roles.dr_repository.plan import PORT, uses_s3
from roles.templates import render

JITTER_SECONDS = 900

BUILT_IN_PRE_HOOKS: Mapping[str, str] = {
    # service -> command given the service's first path (its staging directory)
    "active-directory": AD_BACKUP_HOOK + " {staging}",
}
"""Application-consistent copies that bimkit's own roles provide."""

MANIFEST_CHECKS = frozenset({"checksums", "acls"})
"""Drill checks that read the manifest written before the backup."""
ASTERISK_CHECKS = frozenset({"asterisk-starts", "endpoint-counts", "queue-counts"})
"""Drill checks that compare the restored Asterisk with what production had loaded."""


@dataclass(frozen=True)
class AgentPlan:
    config: str
    """/etc/bimkit/backup.json"""
    units: Mapping[str, str]
    """unit file name -> content"""
    services: tuple[str, ...]


def repository_url(data: Mapping[str, Any], hostname: str, credential: str = "") -> str:
    """The host's repository at the DR site, by address: DNS may be down.

    On the rest-server, a private repository; with `credential`, the URL
    restic reads from REPOSITORY_FILE. On S3, the host's prefix in the bucket
    (the access key is in S3_CREDENTIALS_FILE, never in the URL).
    """
    if uses_s3(data):
        return restic.s3_url(data["dr_s3"]["endpoint"], data["dr_s3"]["bucket"], hostname)
    userinfo = f"{hostname}:{credential}@" if credential else ""
    return f"rest:https://{userinfo}{data['dr_repository_address']}:{PORT}/{hostname}/"


def repository_access(data: Mapping[str, Any], hostname: str) -> RepositoryAccess:
    """How the agent opens its repository: only file names, no secret."""
    s3 = uses_s3(data)
    return RepositoryAccess(
        url=repository_url(data, hostname),
        password_file=PASSWORD_FILE,
        owner=hostname,
        cache_dir=CACHE_DIR,
        repository_file=None if s3 else REPOSITORY_FILE,
        cacert=None if s3 else CA_CERTIFICATE,
        credentials_file=S3_CREDENTIALS_FILE if s3 else None,
    )


def manifest_path(service: str) -> str:
    return f"{MANIFESTS_DIR}/{service}.json"


def service_config(service: str, policy: Mapping[str, Any]) -> ServiceBackup:
    """Paths, excludes and hooks; a service whose drill verifies checksums gets a manifest,
    one whose drill compares a restored Asterisk gets what production had loaded."""
    built_in = BUILT_IN_PRE_HOOKS.get(service)
    pre_hooks = [built_in.format(staging=policy["paths"][0])] if built_in else []
    paths = list(policy["paths"])
    if MANIFEST_CHECKS & set(policy.get("verify", ())):
        excludes = "".join(f" --exclude {shlex.quote(p)}" for p in policy["excludes"])
        pre_hooks.append(
            f"{MANIFEST_TOOL} write {manifest_path(service)} "
            + " ".join(shlex.quote(p) for p in paths)
            + excludes
        )
        paths.append(manifest_path(service))
    if ASTERISK_CHECKS & set(policy.get("verify", ())):
        pre_hooks.append(f"{PBX_COUNTS_TOOL} {counts_file(service)}")
        paths.append(counts_file(service))
    return ServiceBackup(
        paths=paths,
        excludes=list(policy["excludes"]),
        pre_hooks=[*pre_hooks, *policy["pre_hooks"]],
        post_hooks=list(policy["post_hooks"]),
    )


def plan_agent(hostname: str, data: Mapping[str, Any]) -> AgentPlan:
    policies = data["backup_policies"]
    services = tuple(sorted(policies))
    config = BackupConfig(
        host=hostname,
        repository=repository_access(data, hostname),
        metrics_dir=METRICS_DIR,
        notify=Notify(**data["backup_notify"]),
        services={service: service_config(service, policies[service]) for service in services},
    )
    units = {
        "bimkit-backup@.service": render("backup_agent/bimkit-backup@.service.j2", agent=AGENT),
        "bimkit-backup-failed@.service": render(
            "backup_agent/bimkit-backup-failed@.service.j2", notifier=NOTIFIER
        ),
    }
    for service in services:
        units[f"bimkit-backup@{service}.timer"] = render(
            "backup_agent/bimkit-backup.timer.j2",
            service=service,
            schedule=policies[service]["schedule"],
            jitter_seconds=JITTER_SECONDS,
        )
    return AgentPlan(to_json(config), units, services)
