"""Operations of the DC role that compare the DC's state with the data themselves."""

from __future__ import annotations

import logging
from collections.abc import Generator
from io import StringIO
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import FindInFile

from bimkit.ad_sites import (
    Topology,
    plan_sites,
    topology_from_state,
    unknown_topology,
)
from bimkit.ad_sites import actions_json as site_actions_json
from bimkit.directory import (
    Action,
    Directory,
    DirectoryRefused,
    actions_json,
    directory_from_state,
    empty_directory,
    plan_directory,
)
from roles.domain_controller.facts import AdSitesState, DomainState, ServedRealm, SiteRecords
from roles.domain_controller.plan import (
    AD_SITES_HELPER,
    DIRECTORY_HELPER,
    FORWARDER_PATTERN,
    SMB_CONF,
    dc_check_command,
    forwarders_command,
    password_settings_command,
    password_settings_options,
    realm_mismatch_command,
    register_site_records_command,
    shown_password_settings,
    zone_create_command,
)
from roles.units import restart_retried

logger = logging.getLogger("pyinfra")

ACTIONS_FILE = "/var/lib/bimkit/directory-actions.json"
SITE_ACTIONS_FILE = "/var/lib/bimkit/ad-sites-actions.json"


_domain_states: dict[Any, dict[str, Any] | None] = {}


def domain_state() -> dict[str, Any] | None:
    """The primary's directory, password policy and DNS zones, read once per deploy run.

    The realm check reads it before any role runs; the directory, password and zone
    operations then work from that same snapshot, each on its own part, so the
    directory that was found safe is the one changed. None: not provisioned yet
    (as a freshly provisioned domain, it holds nothing bimkit manages).
    """
    if host not in _domain_states:
        _domain_states[host] = host.get_fact(DomainState)
    return _domain_states[host]


def _planned(desired: Directory, realm: str) -> list[Action]:
    """The directory actions for this DC; OperationError naming the host when refused."""
    state = domain_state()
    current = directory_from_state(state["directory"]) if state else empty_directory(realm)
    try:
        return plan_directory(desired, current)
    except DirectoryRefused as refused:
        raise OperationError(f"{host.name}: {refused}") from None


@operation()
def directory_safe(desired: Directory, realm: str) -> Generator[Any, None, None]:
    """Stop the whole deploy, before any role runs, when the directory would be refused.

    + desired: the directory the estate asks for (`desired_directory`)
    + realm: the AD realm, for a domain that is not provisioned yet

    An unrecorded username or an account that would change hands is found here,
    so nothing at all has changed on any host when the deploy stops.
    """
    actions = _planned(desired, realm)
    host.noop(f"directory/ can be applied ({len(actions)} change(s))")
    yield from ()


@operation()
def directory(desired: Directory, realm: str) -> Generator[Any, None, None]:
    """Create, change, disable and move what `plan_directory` says, in one transaction.

    + desired: the directory the estate asks for (`desired_directory`)
    + realm: the AD realm, for a domain that is not provisioned yet

    Each planned action is logged, so `pyinfra ... --dry` lists what would be
    created, renamed, changed or disabled. Data that would create an unrecorded
    username or give an account to another person stops the deploy before
    anything runs (`DirectoryRefused`). New accounts' passwords are made on the DC
    and never leave it (see files/bimkit_directory.py).
    """
    actions = _planned(desired, realm)
    if not actions:
        host.noop("the directory matches directory/")
        return
    for action in actions:
        logger.info(f"{host.print_prefix}directory: {action}")
    yield from _apply_on_dc(DIRECTORY_HELPER, actions_json(actions), ACTIONS_FILE)


def _apply_on_dc(helper: str, actions: str, path: str) -> Generator[Any, None, None]:
    """Upload planned actions (JSON) to a root-only folder and have the DC's helper apply them."""
    yield StringCommand("install", "-d", "-m", "700", "/var/lib/bimkit")
    yield FileUploadCommand(StringIO(actions), path)
    yield StringCommand(helper, "apply", path)


@operation()
def password_policy(policy: dict[str, Any]) -> Generator[Any, None, None]:
    """Make the domain's password and lockout settings those of `policy` (estate.yaml).

    + policy: estate.yaml's `password_policy`, as host data `account_policy` carries it
    """
    state = domain_state()
    shown = shown_password_settings(state["password_settings"]) if state else None
    options = password_settings_options(policy, shown)
    if not options:
        host.noop("the password policy matches estate.yaml")
        return
    yield password_settings_command(options)


@operation()
def reverse_zones(zones: list[str], realm: str) -> Generator[Any, None, None]:
    """Create the reverse DNS zones of the estate's subnets that the DC does not hold yet.

    + zones: in-addr.arpa zone names; zones not listed are left alone
    + realm: the AD realm
    """
    state = domain_state()
    held = set(state["dns_zones"]) if state else set()
    missing = [zone for zone in zones if zone not in held]
    if not missing:
        host.noop("every site subnet has its reverse zone")
        return
    # Samba may have just started: wait until it answers, and say so if the password is wrong.
    yield dc_check_command("127.0.0.1", host.name, realm, seconds=60)
    for zone in missing:
        yield zone_create_command(zone)


@operation()
def dns_forwarders(line: str | None) -> Generator[Any, None, None]:
    """Keep smb.conf's `dns forwarder` as the data says, restarting samba-ad-dc on a change.

    + line: the whole `dns forwarder = ...` line, None for no forwarders

    The provision writes the first one; this follows later edits of estate.yaml.
    """
    found = host.get_fact(FindInFile, path=SMB_CONF, pattern=FORWARDER_PATTERN)
    if found is None:
        host.noop(f"{SMB_CONF} is written by the provision")
        return
    if [found_line.strip() for found_line in found] == ([line.strip()] if line else []):
        host.noop("DNS forwarders match estate.yaml")
        return
    yield forwarders_command(line)
    yield restart_retried("samba-ad-dc.service")


@operation()
def realm_matches(realm: str) -> Generator[Any, None, None]:
    """Fail, saying why, when the domain on this host is not the estate's realm.

    + realm: the realm estate.yaml names
    """
    served = host.get_fact(ServedRealm)
    if served is None or served.lower() == realm.lower():
        host.noop(f"Samba AD serves {realm}" if served else "no domain here yet")
        return
    yield realm_mismatch_command(host.name, served, realm)


@operation()
def ad_sites(desired: Topology) -> Generator[Any, None, None]:
    """Sites, subnets, site links and DC placement as `bimkit.ad_sites` plans them.

    + desired: the estate's topology (`desired_topology`)

    Runs on the primary DC; the others get the changes by replication. Each action
    is logged, so `--dry` lists what would change.
    """
    state = host.get_fact(AdSitesState)
    current = topology_from_state(state) if state else unknown_topology(desired)
    actions = plan_sites(desired, current)
    if not actions:
        host.noop("AD sites, subnets, site links and DC placement match the estate")
        return
    for action in actions:
        logger.info(f"{host.print_prefix}AD sites: {action.step} {action.target} {action.details}")
    yield from _apply_on_dc(AD_SITES_HELPER, site_actions_json(actions), SITE_ACTIONS_FILE)


@operation()
def site_records(realm: str, hostname: str, sites: list[str]) -> Generator[Any, None, None]:
    """This DC answers `_ldap._tcp.<site>._sites` for its own site and the sites it covers,
    so clients find the nearest DC first.

    + realm: the AD realm
    + hostname: this DC's host name
    + sites: its own site, then the sites it covers (`bimkit.ad_sites.answers_for`)
    """
    found = host.get_fact(SiteRecords, realm=realm, sites=sites)
    missing = [site for site in sites if hostname.lower() not in found.get(site, [])]
    if not missing:
        host.noop(f"{hostname} answers for {', '.join(sites)}")
        return
    logger.info(f"{host.print_prefix}site records missing for: {', '.join(missing)}")
    yield register_site_records_command(realm, hostname, sites)
