"""Turn the parsed files into sites, VLANs and placed hosts, noting what cannot be placed.

Lenient on purpose: one bad VLAN must not hide the problems of the next
site, so everything that can be resolved is, and the rest becomes a Problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bimkit.errors import Problem
from bimkit.model.addressing import (
    AddressPlanError,
    default_vlan,
    gateway,
    host_address,
    site_block,
    vlan_subnet,
)
from bimkit.model.estate import ROLE_SERVICES, PlacedHost, Site, Source, Vlan
from bimkit.model.schema import EstateConfig, SiteFile, VlanKind


@dataclass
class Placement:
    sites: dict[str, Site] = field(default_factory=dict)
    hosts: list[PlacedHost] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def place(config: EstateConfig, site_files: list[tuple[str, SiteFile]]) -> Placement:
    """Resolve every site's block and VLANs and every host's address."""
    placement = Placement()
    for file, site_file in site_files:
        site = _place_site(config, file, site_file, placement.problems)
        if site is None:
            continue
        placement.sites[site.name] = site
        hosts = _place_hosts(site, site_file, config.debian_release, placement.problems)
        placement.hosts.extend(hosts)
    return placement


def _place_site(
    config: EstateConfig, file: str, site_file: SiteFile, problems: list[Problem]
) -> Site | None:
    try:
        block = site_block(config.supernet, config.site_prefix_length, site_file.number)
    except AddressPlanError as error:
        problems.append(Problem(file, "number", str(error)))
        return None

    templates = {template.kind: template for template in config.vlan_plan}
    vlans: dict[VlanKind, Vlan] = {}
    for index, spec in enumerate(site_file.vlans):
        path = f"vlans[{index}]"
        if spec.kind in vlans:
            problems.append(
                Problem(file, f"{path}.kind", f"VLAN kind `{spec.kind}` is listed twice")
            )
            continue
        template = templates.get(spec.kind)
        vlan_id = spec.id if spec.id is not None else template.id if template else None
        if vlan_id is None:
            problems.append(
                Problem(
                    file,
                    f"{path}.id",
                    f"no id given and the estate's `vlan_plan` has no `{spec.kind}` VLAN",
                )
            )
            continue
        try:
            subnet = vlan_subnet(block, spec, template)
        except AddressPlanError as error:
            problems.append(Problem(file, path, str(error)))
            continue
        vlans[spec.kind] = Vlan(
            kind=spec.kind,
            id=vlan_id,
            subnet=subnet,
            gateway=gateway(subnet, spec),
            source=Source(file, path),
        )
    return Site(
        name=site_file.name,
        number=site_file.number,
        title=site_file.title,
        block=block,
        vlans=vlans,
        source=Source(file, ""),
        departments=tuple(site_file.departments),
    )


def _place_hosts(
    site: Site, site_file: SiteFile, release: str, problems: list[Problem]
) -> list[PlacedHost]:
    file = site.source.file
    placed = []
    for index, host in enumerate(site_file.hosts):
        path = f"hosts[{index}]"
        kind = host.vlan or default_vlan(host.roles)
        vlan = site.vlans.get(kind)
        if vlan is None:
            problems.append(
                Problem(
                    file,
                    f"{path}.vlan",
                    f"site `{site.name}` has no `{kind}` VLAN for host `{host.name}`",
                )
            )
            continue
        try:
            address = host_address(vlan.subnet, host.address)
        except AddressPlanError as error:
            problems.append(Problem(file, f"{path}.address", f"host `{host.name}`: {error}"))
            continue
        implied = {ROLE_SERVICES[role] for role in host.roles if role in ROLE_SERVICES}
        placed.append(
            PlacedHost(
                name=host.name,
                site=site.name,
                roles=frozenset(host.roles),
                os=host.os,
                vlan=vlan,
                address=address,
                mac=host.mac,
                protected_services=tuple(sorted(implied | set(host.backup))),
                release=host.release or release,
                description=host.description,
                source=Source(file, path),
                ports=tuple(host.ports),
            )
        )
    return placed
