"""Is the domain healthy? Judging what the DCs report, without touching them (pure).

The facts in roles/domain_controller/facts.py gather the raw reports;
`bimkit dc health` runs them on the hosts and prints these verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SRV_RECORDS = ("_ldap._tcp", "_kerberos._tcp", "_kerberos._udp", "_gc._tcp", "_kpasswd._udp")
"""What a Windows or Linux member looks up to find a DC."""
FSMO_ROLES = (
    "SchemaMasterRole",
    "InfrastructureMasterRole",
    "RidAllocationMasterRole",
    "PdcEmulationMasterRole",
    "DomainNamingMasterRole",
    "DomainDnsZonesMasterRole",
    "ForestDnsZonesMasterRole",
)


@dataclass(frozen=True)
class Verdict:
    host: str
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def replication(host: str, status: Mapping[str, Any], other_dcs: int) -> Verdict:
    """`samba-tool drs showrepl --json`: every inbound link works; some exist if there are peers.

    `status`: the ReplicationStatus fact.
    """
    if status["report"] is None:
        return Verdict(host, "replication", False, f"samba-tool drs showrepl: {status['error']}")
    links = status["report"].get("repsFrom", [])
    failing: dict[str, list[Mapping[str, Any]]] = {}
    for link in links:
        if link.get("consecutive failures", 0):
            partner = str(link.get("DSA", "?")).rsplit("\\", 1)[-1]
            failing.setdefault(partner, []).append(link)
    if failing:
        detail = "; ".join(
            f"{len(broken)} of {len(links)} partitions failing from {partner}: "
            + ", ".join(sorted({_error_name(link) for link in broken}))
            for partner, broken in sorted(failing.items())
        )
        return Verdict(host, "replication", False, detail)
    if other_dcs and not links:
        return Verdict(
            host, "replication", False, f"no inbound link though {other_dcs} DC(s) exist"
        )
    partitions = len({link.get("NC dn") for link in links})
    return Verdict(host, "replication", True, f"{partitions} partitions, 0 failures")


def _error_name(link: Mapping[str, Any]) -> str:
    """`failed, result 1225 (WERR_CONNECTION_REFUSED)` -> `WERR_CONNECTION_REFUSED`."""
    message = str(link.get("last attempt message", ""))
    return message[message.rfind("(") + 1 : message.rfind(")")] if "(" in message else message


def dbcheck(host: str, result: Mapping[str, Any]) -> Verdict:
    """`samba-tool dbcheck` exits 0. `result`: the DatabaseCheck fact."""
    summary = next((line for line in reversed(result["output"]) if "error" in line.lower()), "")
    if result["exit"] == 0:
        return Verdict(host, "dbcheck", True, summary or "clean")
    return Verdict(host, "dbcheck", False, summary or f"samba-tool dbcheck exited {result['exit']}")


_OWNER = re.compile(r"^(\w+) owner: CN=NTDS Settings,CN=([^,]+),", re.IGNORECASE)


def fsmo_owners(output: Sequence[str]) -> dict[str, str]:
    """`samba-tool fsmo show` -> role -> owning DC's name (lower case)."""
    owners = {}
    for line in output:
        match = _OWNER.match(line.strip())
        if match:
            owners[match.group(1)] = match.group(2).lower()
    return owners


def fsmo(host: str, roles: Mapping[str, Any], expected_owner: str) -> Verdict:
    """Every FSMO role is held by the DC the data makes primary. `roles`: the FsmoRoles fact."""
    if roles["exit"]:
        return Verdict(host, "fsmo", False, f"samba-tool fsmo show: {roles['error']}")
    owners = roles["owners"]
    wrong = [
        f"{role} held by {owners.get(role, 'nobody')}"
        for role in FSMO_ROLES
        if owners.get(role) != expected_owner.lower()
    ]
    if wrong:
        return Verdict(host, "fsmo", False, f"expected {expected_owner}: " + "; ".join(wrong))
    return Verdict(host, "fsmo", True, f"all {len(FSMO_ROLES)} roles on {expected_owner}")


def srv_records(host: str, site: str, answers: Mapping[str, bool]) -> Verdict:
    """The realm's SRV records resolve from a host of `site` (through the resolvers it uses)."""
    missing = [record for record in SRV_RECORDS if not answers.get(record)]
    check = f"dns-srv from {site}"
    if missing:
        return Verdict(host, check, False, "unresolved: " + ", ".join(missing))
    return Verdict(host, check, True, f"{len(SRV_RECORDS)} records resolve")


def site_locator(host: str, site: str, named: Sequence[str], expected: Sequence[str]) -> Verdict:
    """`_ldap._tcp.<site>._sites` from a host of `site` names exactly the DCs that should
    answer there: the site's own, or those covering it (`bimkit.ad_sites`)."""
    check = f"site DCs from {site}"
    record = f"_ldap._tcp.{site}._sites"
    if not named:
        return Verdict(host, check, False, f"no {record} record: clients there take any DC")
    wanted = {name.lower() for name in expected}
    if set(named) != wanted:
        return Verdict(host, check, False, f"{record} names {', '.join(sorted(named))}, "
                       f"expected {', '.join(sorted(wanted))}")  # fmt: skip
    return Verdict(host, check, True, f"{record} names {', '.join(sorted(named))}")


def unreachable(host: str, check: str, error: str) -> Verdict:
    return Verdict(host, check, False, f"could not ask the host: {error}")


def healthy(verdicts: Sequence[Verdict]) -> bool:
    return bool(verdicts) and all(v.ok for v in verdicts)
