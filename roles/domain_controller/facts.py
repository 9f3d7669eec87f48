"""Facts about Samba AD on a host."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from pyinfra.api.facts import FactBase

from bimkit.dc_health import SRV_RECORDS, fsmo_owners
from roles.domain_controller.plan import SAM_LDB, SMB_CONF, site_records, site_records_command

DIRECTORY_HELPER_SOURCE = Path(__file__).resolve().parent / "files" / "bimkit_directory.py"


class SambaProvisioned(FactBase[bool]):
    """True when the host already holds a Samba AD domain database.

    True
    """

    def command(self) -> str:
        return f"test -e {SAM_LDB} && echo yes || echo no"

    def process(self, output: list[str]) -> bool:
        return output == ["yes"]


class ServedRealm(FactBase[str | None]):
    """The realm in this host's smb.conf (as Samba writes it, upper case); None without one.

    AD.KAYAPINAR.BEL.TR
    """

    def command(self) -> str:
        pattern = "s/^[[:space:]]*realm[[:space:]]*=[[:space:]]*//p"
        return f"sed -n '{pattern}' {SMB_CONF} 2>/dev/null || true"

    def process(self, output: list[str]) -> str | None:
        return output[0].strip() if output else None


class DomainState(FactBase[dict[str, Any] | None]):
    """What the primary DC holds that the role manages (`bimkit-directory state`): the
    directory, the password policy's attributes, the DNS zones; None before provisioning.

    {"directory": {"base": "DC=ad,...", "ous": [...], "groups": {...}, "users": {...}},
     "password_settings": {"minPwdLength": 12, ...}, "dns_zones": ["ad.kayapinar.bel.tr", ...]}
    """

    def command(self) -> str:
        # The reader travels with the fact: the realm check asks before any operation
        # has installed the helper.
        source = DIRECTORY_HELPER_SOURCE.read_text()
        return (
            f"test -e {SAM_LDB} || {{ echo null; exit 0; }}; python3 -c {shlex.quote(source)} state"
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        state: dict[str, Any] | None = json.loads("\n".join(output))
        return state


def _reporting(command: str) -> str:
    """`command` that never fails: its exit code first, then its output and errors."""
    return f'out=$({command} 2>&1); echo "exit=$?"; printf "%s\\n" "$out"'


def _report(output: list[str]) -> tuple[int, list[str]]:
    return int(output[0].removeprefix("exit=")), output[1:]


class ReplicationStatus(FactBase[dict[str, Any]]):
    """`samba-tool drs showrepl --json` on a DC (judged by `bimkit.dc_health.replication`).

    {"exit": 0, "report": {"repsFrom": [{"NC dn": "...", "consecutive failures": 0}]}, "error": ""}
    """

    def command(self) -> str:
        return _reporting("samba-tool drs showrepl --json")

    def process(self, output: list[str]) -> dict[str, Any]:
        exit_code, lines = _report(output)
        if exit_code:
            return {"exit": exit_code, "report": None, "error": " ".join(lines)[-500:]}
        return {"exit": 0, "report": json.loads("\n".join(lines)), "error": ""}


class DatabaseCheck(FactBase[dict[str, Any]]):
    """`samba-tool dbcheck` on a DC: its exit code and last lines (read-only: no --fix).

    {"exit": 0, "output": ["Checked 3812 objects (0 errors)"]}
    """

    def command(self) -> str:
        return _reporting("samba-tool dbcheck") + " | tail -n 21"

    def process(self, output: list[str]) -> dict[str, Any]:
        exit_code, lines = _report(output)
        return {"exit": exit_code, "output": lines}


class FsmoRoles(FactBase[dict[str, Any]]):
    """FSMO role -> the DC holding it (lower case), from `samba-tool fsmo show`.

    {"exit": 0, "owners": {"PdcEmulationMasterRole": "dc1", ...}, "error": ""}
    """

    def command(self) -> str:
        return _reporting("samba-tool fsmo show")

    def process(self, output: list[str]) -> dict[str, Any]:
        exit_code, lines = _report(output)
        error = "" if exit_code == 0 else " ".join(lines)[-500:]
        return {"exit": exit_code, "owners": fsmo_owners(lines), "error": error}


class SrvRecords(FactBase[dict[str, bool]]):
    """Which of the realm's SRV records resolve on this host, through its own resolvers.

    {"_ldap._tcp": true, "_kerberos._udp": true, ...}
    """

    def command(self, realm: str) -> str:
        return "; ".join(
            f"host -t SRV {shlex.quote(f'{record}.{realm}')} >/dev/null 2>&1 "
            f"&& echo '{record} yes' || echo '{record} no'"
            for record in SRV_RECORDS
        )

    def process(self, output: list[str]) -> dict[str, bool]:
        return {record: answer == "yes" for record, answer in (line.split() for line in output)}


AD_SITES_SOURCE = Path(__file__).resolve().parent / "files" / "bimkit_ad_sites.py"


class AdSitesState(FactBase[dict[str, Any] | None]):
    """The AD topology on the primary DC (`bimkit-ad-sites state`); None before provisioning.

    {"sites": {"merkez": ["10.21.16.0/20"]}, "links": {"merkez-zabita": {"sites": [...],
     "cost": 100}}, "servers": {"DC1": "merkez"}}
    """

    def command(self) -> str:
        source = AD_SITES_SOURCE.read_text()
        return (
            f"test -e {SAM_LDB} || {{ echo null; exit 0; }}; python3 -c {shlex.quote(source)} state"
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        state: dict[str, Any] | None = json.loads("\n".join(output))
        return state


class SiteRecords(FactBase[dict[str, list[str]]]):
    """site -> the DCs its `_ldap._tcp.<site>._sites` records name, as `server` answers
    (default: this DC's own DNS; "" for the host's resolvers).

    {"merkez": ["dc1"], "zabita": ["dc1"]}
    """

    def command(self, realm: str, sites: list[str], server: str = "127.0.0.1") -> str:
        return site_records_command(realm, sites, server)

    def process(self, output: list[str]) -> dict[str, list[str]]:
        return site_records(output)
