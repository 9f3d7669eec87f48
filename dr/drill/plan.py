"""What a drill does and how its figures are judged (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dr.config import DrillConfig

PROCEDURES = {
    # a verify check in a backup policy -> the recovery procedure that can prove it
    "ldap-bind": "active-directory",
    "object-counts": "active-directory",
    "kerberos": "active-directory",
    "dns-srv": "active-directory",
    "dbcheck": "active-directory",
    "checksums": "files",
    "acls": "files",
    "log-seals": "files",
    "asterisk-starts": "pbx",
    "endpoint-counts": "pbx",
    "queue-counts": "pbx",
}


@dataclass(frozen=True)
class DrillTarget:
    host: str
    service: str
    procedure: str | None
    """`active-directory`, `files`, `pbx`, or None when bimkit has no procedure for its checks."""
    checks: tuple[str, ...]
    rpo_seconds: int
    rto_seconds: int
    paths: tuple[str, ...]
    allow_empty: bool = False
    """The policy accepts a drill that verified nothing (otherwise that is a failure)."""


def procedure_for(verify: Sequence[str]) -> str | None:
    """The one procedure all of a policy's checks belong to, else None."""
    procedures = {PROCEDURES.get(check) for check in verify}
    return procedures.pop() if len(procedures) == 1 and None not in procedures else None


def targets(config: DrillConfig, only: Sequence[str] = ()) -> list[DrillTarget]:
    """Every protected service of drill.json, or those named in `only` (service or host)."""
    found = []
    for host, services in sorted(config.services.items()):
        for service, policy in sorted(services.items()):
            if only and service not in only and host not in only:
                continue
            found.append(
                DrillTarget(
                    host=host,
                    service=service,
                    procedure=procedure_for(policy.verify),
                    checks=tuple(policy.verify),
                    rpo_seconds=policy.rpo_seconds,
                    rto_seconds=policy.rto_seconds,
                    paths=tuple(policy.paths),
                    allow_empty=policy.allow_empty,
                )
            )
    return found


def verdict(result: Mapping[str, Any]) -> str:
    """OK; FAILED when a step or a check failed; BREACH when it worked but missed RPO or RTO."""
    if result.get("error") or not all(check["ok"] for check in result.get("checks", ())):
        return "FAILED"
    if result.get("rpo_achieved_seconds", 0) > result["rpo_seconds"]:
        return "BREACH"
    if result.get("rto_achieved_seconds", 0) > result["rto_seconds"]:
        return "BREACH"
    return "OK"
