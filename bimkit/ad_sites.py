"""The estate's sites as Active Directory sees them, and the changes that get it there (pure).

Every site of the estate is an AD site whose subnet is the site's address
block, so a client's address tells which site it is in. Each DC's server
object stands in its own site. Site links come from the data (default: every
site to the central site, cost 100). A site with no DC of its own is covered
by the DCs of the cheapest linked site that has one: they also answer its
`_ldap._tcp.<site>._sites` records, so its clients find the nearest DC first.

The primary DC reads the current topology (`bimkit-ad-sites state`) and
applies what `plan_sites` returns (`bimkit-ad-sites apply`); nothing it does
not name (Samba's Default-First-Site-Name, DEFAULTIPSITELINK) is removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bimkit.model.estate import Estate


@dataclass(frozen=True)
class Link:
    sites: tuple[str, ...]
    cost: int


@dataclass(frozen=True)
class Topology:
    sites: dict[str, tuple[str, ...]]
    """site -> its subnets"""
    links: dict[str, Link]
    """link name -> the sites it joins and its cost"""
    servers: dict[str, str]
    """DC (upper-case, as AD names server objects) -> its site"""
    coverage: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """site without a DC -> the DCs that answer for it (desired topology only)"""


def link_name(sites: tuple[str, ...]) -> str:
    return "-".join(sites)


def desired_links(estate: Estate) -> dict[str, Link]:
    config = estate.config
    if config.site_links:
        chosen = [(tuple(link.sites), link.cost) for link in config.site_links]
    else:
        central = config.central_site
        chosen = [((central, name), 100) for name in sorted(estate.sites) if name != central]
    return {link_name(sites): Link(sites, cost) for sites, cost in chosen}


def coverage(
    links: Mapping[str, Link], dcs_at: Mapping[str, list[str]]
) -> dict[str, tuple[str, ...]]:
    """Each site without a DC -> the DCs of the cheapest linked site with DCs (by name on a tie)."""
    covered = {}
    for site, dcs in sorted(dcs_at.items()):
        if dcs:
            continue
        candidates = sorted(
            (link.cost, other)
            for link in links.values() if site in link.sites
            for other in link.sites if other != site and dcs_at.get(other)
        )  # fmt: skip
        if candidates:
            covered[site] = tuple(sorted(dcs_at[candidates[0][1]]))
    return covered


def desired_topology(estate: Estate) -> Topology:
    links = desired_links(estate)
    dcs_at: dict[str, list[str]] = {name: [] for name in estate.sites}
    for dc in estate.domain_controllers:
        dcs_at[dc.site].append(dc.name.upper())
    return Topology(
        sites={name: (str(site.block),) for name, site in sorted(estate.sites.items())},
        links=links,
        servers={dc.name.upper(): dc.site for dc in estate.domain_controllers},
        coverage=coverage(links, dcs_at),
    )


@dataclass(frozen=True)
class SiteAction:
    step: str
    """create_site, set_subnet, set_link, move_server"""
    target: str
    details: dict[str, Any] = field(default_factory=dict)


def plan_sites(desired: Topology, current: Topology) -> list[SiteAction]:
    """What the primary DC must change: sites first, then subnets, links and servers."""
    actions = [
        SiteAction("create_site", site) for site in desired.sites if site not in current.sites
    ]
    owner = {subnet: site for site, subnets in current.sites.items() for subnet in subnets}
    actions += [
        SiteAction("set_subnet", subnet, {"site": site})
        for site, subnets in desired.sites.items()
        for subnet in subnets
        if owner.get(subnet) != site
    ]
    actions += [
        SiteAction("set_link", name, {"sites": list(link.sites), "cost": link.cost})
        for name, link in desired.links.items()
        if name not in current.links
        or set(current.links[name].sites) != set(link.sites)
        or current.links[name].cost != link.cost
    ]
    here = {server.upper(): site for server, site in current.servers.items()}
    actions += [
        SiteAction("move_server", server, {"site": site})
        for server, site in desired.servers.items()
        if server in here and here[server] != site
    ]
    return actions


def topology_state(topology: Topology) -> dict[str, Any]:
    """The topology as inventory data (JSON): what `topology_from_state` reads back."""
    return {
        "sites": {name: list(subnets) for name, subnets in topology.sites.items()},
        "links": {
            name: {"sites": list(link.sites), "cost": link.cost}
            for name, link in topology.links.items()
        },
        "servers": dict(topology.servers),
        "coverage": {site: list(dcs) for site, dcs in topology.coverage.items()},
    }


def unknown_topology(desired: Topology) -> Topology:
    """A domain not provisioned yet: nothing known, so every DC is asked to be in its site
    (the DC's helper skips one that stands there already or does not exist yet)."""
    return Topology(sites={}, links={}, servers={name: "" for name in desired.servers})


def topology_from_state(state: Mapping[str, Any]) -> Topology:
    """`bimkit-ad-sites state`, read."""
    return Topology(
        sites={name: tuple(subnets) for name, subnets in state["sites"].items()},
        links={
            name: Link(tuple(link["sites"]), int(link["cost"]))
            for name, link in state["links"].items()
        },
        servers=dict(state["servers"]),
        coverage={site: tuple(dcs) for site, dcs in state.get("coverage", {}).items()},
    )


def answers_for(topology: Topology, dc: str) -> list[str]:
    """The sites whose `_ldap._tcp.<site>._sites` records name `dc`: its own and those it
    covers."""
    covered = [site for site, dcs in topology.coverage.items() if dc.upper() in dcs]
    return [topology.servers[dc.upper()], *sorted(covered)]


def actions_json(actions: list[SiteAction]) -> str:
    return json.dumps([asdict(action) for action in actions], ensure_ascii=False, indent=1)
