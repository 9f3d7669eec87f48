"""Rules that span files: each `check_*` returns every problem it finds, never stops early."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from ipaddress import IPv4Network

from bimkit.errors import Problem
from bimkit.model.addressing import AddressPlanError, planned_subnet, site_block, usable
from bimkit.model.estate import Estate, PlacedHost, Site, Source
from bimkit.model.names import MANAGERS_SUFFIX, managers_group, username_base
from bimkit.model.schema import (
    DepartmentsFile,
    EstateConfig,
    GroupsFile,
    OsFamily,
    PeopleFile,
    Role,
    SiteFile,
)
from bimkit.model.usernames import UsernameAssignment

ESTATE_FILE = "estate.yaml"
DEPARTMENTS_FILE = "directory/departments.yaml"
RESERVED_FOLDERS = {"home": "folder of home folders", "ortak": "common share"}
"""Names the file server's root already uses (bimkit.file_shares): no department takes them."""
GROUPS_FILE = "directory/groups.yaml"
PEOPLE_FILE = "directory/people.yaml"
USERNAMES_FILE = "directory/usernames.yaml"

_DEBIAN_ONLY_ROLES = {Role.file_server, Role.log_server, Role.pbx, Role.backup_server, Role.dr_host}


def duplicates(
    entries: Iterable[tuple[Hashable, Source]], what: Callable[[Hashable], str]
) -> list[Problem]:
    """A problem at every entry whose key an earlier entry already has."""
    first: dict[Hashable, Source] = {}
    problems = []
    for key, source in entries:
        if key not in first:
            first[key] = source
            continue
        where = _seen_from(first[key], source)
        problems.append(
            Problem(source.file, source.path, f"{what(key)} is used twice (first at {where})")
        )
    return problems


def _at(source: Source, field: str) -> Source:
    return Source(source.file, f"{source.path}.{field}" if source.path else field)


def _problem_at(source: Source, field: str, message: str) -> Problem:
    """A problem at `field` of the thing written at `source`."""
    where = _at(source, field)
    return Problem(where.file, where.path, message)


def _seen_from(earlier: Source, here: Source) -> str:
    """How to point at `earlier` from a message about `here`: no file when it is the same."""
    return earlier.path if earlier.file == here.file else f"{earlier.file}: {earlier.path}"


def check_plan(config: EstateConfig) -> list[Problem]:
    """The estate-wide address plan: site blocks fit the supernet, VLAN layouts fit a block."""
    problems: list[Problem] = []
    plan = list(enumerate(config.vlan_plan))
    problems += duplicates(
        ((t.kind, Source(ESTATE_FILE, f"vlan_plan[{i}].kind")) for i, t in plan),
        lambda kind: f"VLAN kind `{kind}`",
    )
    problems += duplicates(
        ((t.id, Source(ESTATE_FILE, f"vlan_plan[{i}].id")) for i, t in plan),
        lambda vlan_id: f"VLAN {vlan_id}",
    )
    try:
        block = site_block(config.supernet, config.site_prefix_length, 0)
    except AddressPlanError as error:
        return [*problems, Problem(ESTATE_FILE, "site_prefix_length", str(error))]
    laid_out: list[tuple[IPv4Network, int]] = []
    for index, template in plan:
        try:
            subnet = planned_subnet(block, template)
        except AddressPlanError as error:
            problems.append(Problem(ESTATE_FILE, f"vlan_plan[{index}]", str(error)))
            continue
        for other, other_index in laid_out:
            if subnet.overlaps(other):
                problems.append(
                    Problem(
                        ESTATE_FILE,
                        f"vlan_plan[{index}]",
                        f"{template.kind} subnet "
                        f"{subnet} overlaps vlan_plan[{other_index}] ({other}) in every site",
                    )
                )
        laid_out.append((subnet, index))
    policy = config.password_policy
    if policy.lockout_window_minutes > policy.lockout_minutes:
        problems.append(
            Problem(
                ESTATE_FILE,
                "password_policy.lockout_window_minutes",
                f"the lockout window ({policy.lockout_window_minutes} min) must not be longer "
                f"than the lockout itself ({policy.lockout_minutes} min); AD refuses it",
            )
        )
    if config.dr_repository == "s3" and config.dr_s3 is None:
        problems.append(
            Problem(
                ESTATE_FILE,
                "dr_s3",
                "dr_repository is s3 but no dr_s3 section gives its endpoint and bucket",
            )
        )
    if 0 < policy.max_age_days <= policy.min_age_days:
        problems.append(
            Problem(
                ESTATE_FILE,
                "password_policy.max_age_days",
                f"passwords would expire ({policy.max_age_days} days) before they may be "
                f"changed ({policy.min_age_days} days)",
            )
        )
    return problems


def check_sites(
    config: EstateConfig, site_files: list[tuple[str, SiteFile]], sites: dict[str, Site]
) -> list[Problem]:
    """Site names, numbers, VLAN ids, subnets and gateways; the central and DR sites."""
    problems: list[Problem] = []
    for file, site_file in site_files:
        stem = file.rsplit("/", 1)[-1].removesuffix(".yaml")
        if site_file.name != stem:
            problems.append(
                Problem(
                    file,
                    "name",
                    f"site name `{site_file.name}` differs from its file "
                    f"name; rename one so both read `{stem}`",
                )
            )
    problems += duplicates(
        ((site.number, _at(site.source, "number")) for site in sites.values()),
        lambda number: f"site number {number}",
    )
    all_subnets: list[tuple[IPv4Network, Source]] = []
    for site in sites.values():
        problems += duplicates(
            ((vlan.id, _at(vlan.source, "id")) for vlan in site.vlans.values()),
            lambda vlan_id: f"VLAN {vlan_id}",
        )
        for vlan in site.vlans.values():
            if not vlan.subnet.subnet_of(config.supernet):
                problems.append(
                    _problem_at(
                        vlan.source,
                        "subnet",
                        f"{vlan.kind} subnet {vlan.subnet} lies outside the supernet "
                        f"{config.supernet}",
                    )
                )
            elif not vlan.subnet.subnet_of(site.block):
                problems.append(
                    _problem_at(
                        vlan.source,
                        "subnet",
                        f"{vlan.kind} subnet {vlan.subnet} lies outside the site's block "
                        f"{site.block} (site number {site.number})",
                    )
                )
            if not usable(vlan.subnet, vlan.gateway):
                problems.append(
                    _problem_at(
                        vlan.source,
                        "gateway",
                        f"gateway {vlan.gateway} is not a host address of {vlan.subnet}",
                    )
                )
            for other, other_source in all_subnets:
                if vlan.subnet.overlaps(other):
                    where = _seen_from(other_source, vlan.source)
                    problems.append(
                        _problem_at(
                            vlan.source,
                            "subnet",
                            f"{vlan.kind} subnet {vlan.subnet} overlaps {other} ({where})",
                        )
                    )
            all_subnets.append((vlan.subnet, vlan.source))

    site_names = {name for _, site_file in site_files for name in [site_file.name]}
    for key in ("central_site", "dr_site"):
        name = getattr(config, key)
        if name not in site_names:
            problems.append(
                Problem(ESTATE_FILE, key, f"site `{name}` does not exist (no sites/{name}.yaml)")
            )
    for index, link in enumerate(config.site_links):
        for position, name in enumerate(link.sites):
            if name not in site_names:
                problems.append(Problem(
                    ESTATE_FILE, f"site_links[{index}].sites[{position}]",
                    f"site `{name}` does not exist (no sites/{name}.yaml)",
                ))  # fmt: skip
        if len(set(link.sites)) < 2:
            problems.append(Problem(ESTATE_FILE, f"site_links[{index}].sites",
                                    "a site link joins at least two different sites"))  # fmt: skip
    if config.dr_site == config.central_site:
        problems.append(
            Problem(
                ESTATE_FILE,
                "dr_site",
                f"the disaster-recovery site must not be the central "
                f"site `{config.central_site}`: one fire would take both",
            )
        )
    return problems


def check_telephony_and_ports(
    site_files: list[tuple[str, SiteFile]], people: list[tuple[int, Source]]
) -> list[Problem]:
    """Extension ranges apart; phones named once, numbered in their site's range; port plans.

    `people`: the directory's extensions, which must not collide with a phone's.
    """
    problems: list[Problem] = []
    ranges: list[tuple[int, int, Source]] = []
    for file, site in site_files:
        if site.extensions is not None:
            here = Source(file, "extensions")
            for first, last, other in ranges:
                if site.extensions.first <= last and first <= site.extensions.last:
                    problems.append(
                        Problem(
                            file,
                            "extensions",
                            f"extensions {site.extensions.first}-"
                            f"{site.extensions.last} overlap {first}-{last} "
                            f"({_seen_from(other, here)})",
                        )
                    )
            ranges.append((site.extensions.first, site.extensions.last, here))
    host_names = {host.name for _, site in site_files for host in site.hosts}
    phones = [
        (file, index, site, phone)
        for file, site in site_files
        for index, phone in enumerate(site.phones)
    ]
    problems += duplicates(
        ((phone.name, Source(file, f"phones[{i}].name")) for file, i, _, phone in phones),
        lambda name: f"phone name `{name}`",
    )
    problems += duplicates(
        [
            *people,
            *((p.extension, Source(f, f"phones[{i}].extension")) for f, i, _, p in phones),
        ],
        lambda extension: f"extension {extension}",
    )
    for file, index, site, phone in phones:
        if phone.name in host_names:
            problems.append(Problem(file, f"phones[{index}].name",
                                    f"phone `{phone.name}` has the name of a host"))  # fmt: skip
        if site.extensions is None:
            problems.append(Problem(file, f"phones[{index}].extension",
                                    "the site has phones but no `extensions` range"))  # fmt: skip
        elif not site.extensions.first <= phone.extension <= site.extensions.last:
            problems.append(
                Problem(
                    file,
                    f"phones[{index}].extension",
                    f"extension {phone.extension} lies "
                    f"outside the site's range {site.extensions.first}-"
                    f"{site.extensions.last}",
                )
            )
    for file, site in site_files:
        for index, host in enumerate(site.hosts):
            where = f"hosts[{index}].ports"
            if host.ports and Role.switch not in host.roles:
                problems.append(Problem(file, where, f"host `{host.name}` is not a switch: "
                                        "only switches have a port plan"))  # fmt: skip
            used: dict[int, int] = {}
            for number, ports in enumerate(host.ports):
                for port in range(ports.first, ports.last + 1):
                    if port in used:
                        problems.append(Problem(file, f"{where}[{number}]",
                                                f"port {port} of `{host.name}` is also in "
                                                f"{where}[{used[port]}]"))  # fmt: skip
                        break
                    used[port] = number
    return problems


def check_hosts(
    config: EstateConfig, hosts: list[PlacedHost], phone_macs: list[tuple[str, Source]]
) -> list[Problem]:
    """Names, addresses and MACs unique; roles fit the OS; DCs placed; services protected."""
    problems: list[Problem] = []
    problems += duplicates(
        ((host.name, _at(host.source, "name")) for host in hosts),
        lambda name: f"host name `{name}`",
    )
    problems += duplicates(
        ((host.address, _at(host.source, "address")) for host in hosts),
        lambda address: f"address {address}",
    )
    host_macs = [(host.mac, _at(host.source, "mac")) for host in hosts if host.mac]
    problems += duplicates([*host_macs, *phone_macs], lambda mac: f"MAC address {mac}")

    for host in hosts:
        if not usable(host.vlan.subnet, host.address):
            problems.append(
                _problem_at(
                    host.source,
                    "address",
                    f"host `{host.name}`: {host.address} is not a "
                    f"host address of its {host.vlan.kind} subnet {host.vlan.subnet}",
                )
            )
        elif host.address == host.vlan.gateway:
            problems.append(
                _problem_at(
                    host.source,
                    "address",
                    f"host `{host.name}`: {host.address} is the {host.vlan.kind} VLAN's gateway",
                )
            )
        problems += _check_roles_fit_os(host)
        for service in host.protected_services:
            if service not in config.backup_policies:
                problems.append(
                    Problem(
                        host.source.file,
                        host.source.path,
                        f"host `{host.name}` protects "
                        f"service `{service}`, which has no entry in {ESTATE_FILE} "
                        "`backup_policies` (with rpo and rto)",
                    )
                )
    problems += _check_domain_controllers(config, hosts)
    if any(host.protected_services for host in hosts) and not any(
        host.has(Role.backup_server) and host.site == config.dr_site for host in hosts
    ):
        problems.append(
            Problem(
                ESTATE_FILE,
                "dr_site",
                f"services are protected but the DR site "
                f"`{config.dr_site}` has no host with the `backup_server` role",
            )
        )
    return problems


def _check_roles_fit_os(host: PlacedHost) -> list[Problem]:
    if host.os.is_network_device != host.has(Role.switch) or (
        host.os.is_network_device and host.roles != {Role.switch}
    ):
        return [
            _problem_at(
                host.source,
                "roles",
                f"host `{host.name}`: the `switch` role and a "
                f"network-device os go together, and such a device has no other role "
                f"(os is `{host.os}`)",
            )
        ]
    misplaced = sorted(
        role for role in host.roles & _DEBIAN_ONLY_ROLES if host.os != OsFamily.debian
    )
    if misplaced:
        return [
            _problem_at(
                host.source,
                "roles",
                f"host `{host.name}`: role(s) "
                f"{', '.join(f'`{r}`' for r in misplaced)} need os `debian`, not `{host.os}`",
            )
        ]
    return []


def _check_domain_controllers(config: EstateConfig, hosts: list[PlacedHost]) -> list[Problem]:
    primaries = [host for host in hosts if host.has(Role.primary_dc)]
    additional = [host for host in hosts if host.has(Role.additional_dc)]
    problems = []
    for host in primaries:
        if host.has(Role.additional_dc):
            problems.append(
                _problem_at(
                    host.source,
                    "roles",
                    f"host `{host.name}` cannot be both `primary_dc` and `additional_dc`",
                )
            )
    if not primaries:
        return [
            *problems,
            Problem(
                ESTATE_FILE,
                "realm",
                f"realm `{config.realm}` has no "
                "primary DC: exactly one host needs the `primary_dc` role",
            ),
        ]
    first = primaries[0]
    for extra in primaries[1:]:
        problems.append(
            _problem_at(
                extra.source,
                "roles",
                f"host `{extra.name}` is a second "
                f"primary DC for realm `{config.realm}`; the first is "
                f"`{first.name}` ({first.source.file})",
            )
        )
    if not any(host.site != first.site for host in additional):
        problems.append(
            Problem(
                ESTATE_FILE,
                "realm",
                f"realm `{config.realm}` needs at least one "
                f"`additional_dc` at a site other than `{first.site}`, where the primary DC is",
            )
        )
    return problems


def _root(department: str, parents: dict[str, str | None]) -> str:
    """The müdürlük at the top of `department`'s path (itself for a müdürlük)."""
    seen = {department}
    while parents.get(department) and parents[department] not in seen:
        department = parents[department]  # type: ignore[assignment]
        seen.add(department)
    return department


def check_directory(
    departments: DepartmentsFile,
    groups: GroupsFile,
    people: PeopleFile,
    registry: dict[str, str],
    retired: dict[str, str],
    assignment: UsernameAssignment,
) -> list[Problem]:
    """Departments form a tree; people reference real departments and groups; ids,
    usernames, extensions are unique; recorded and retired usernames are never reused."""
    problems: list[Problem] = []
    dept_ids = {d.id for d in departments.departments}
    problems += duplicates(
        (
            (d.id, Source(DEPARTMENTS_FILE, f"departments[{i}].id"))
            for i, d in enumerate(departments.departments)
        ),
        lambda dept: f"department id `{dept}`",
    )
    for index, dept in enumerate(departments.departments):
        if dept.id in RESERVED_FOLDERS:
            problems.append(Problem(DEPARTMENTS_FILE, f"departments[{index}].id",
                                    f"`{dept.id}` is the file server's "
                                    f"{RESERVED_FOLDERS[dept.id]}; choose another id"))  # fmt: skip
    parents = {d.id: d.parent for d in departments.departments}
    for index, dept in enumerate(departments.departments):
        path = f"departments[{index}].parent"
        if dept.parent is not None and dept.parent not in dept_ids:
            problems.append(
                Problem(
                    DEPARTMENTS_FILE,
                    path,
                    f"parent `{dept.parent}` of `{dept.id}` is not a department",
                )
            )
        elif _in_cycle(dept.id, parents):
            problems.append(
                Problem(DEPARTMENTS_FILE, path, f"department `{dept.id}` is its own ancestor")
            )

    people_departments = {p.id: p.department for p in people.people}
    for index, dept in enumerate(departments.departments):
        for m_index, manager in enumerate(dept.managers):
            path = f"departments[{index}].managers[{m_index}]"
            if dept.parent is not None:
                problems.append(Problem(DEPARTMENTS_FILE, path, f"`{dept.id}` is a unit: "
                                        "managers belong to its müdürlük"))  # fmt: skip
            elif manager not in people_departments:
                problems.append(Problem(DEPARTMENTS_FILE, path, f"`{manager}` is no person "
                                        "of " + PEOPLE_FILE))  # fmt: skip
            elif _root(people_departments[manager], parents) != dept.id:
                problems.append(Problem(DEPARTMENTS_FILE, path, f"`{manager}` works in "
                                        f"`{people_departments[manager]}`, not in `{dept.id}` "
                                        "or its units"))  # fmt: skip

    group_names = {g.name for g in groups.groups}
    problems += duplicates(
        ((g.name, Source(GROUPS_FILE, f"groups[{i}].name")) for i, g in enumerate(groups.groups)),
        lambda name: f"group `{name}`",
    )
    for index, group in enumerate(groups.groups):
        if group.name.removesuffix(MANAGERS_SUFFIX) in dept_ids - {group.name}:
            problems.append(Problem(GROUPS_FILE, f"groups[{index}].name", f"`{group.name}` is "
                                    "the name of a müdürlük's managers' group, which bimkit "
                                    "makes"))  # fmt: skip
        if group.name in dept_ids:
            problems.append(
                Problem(
                    GROUPS_FILE,
                    f"groups[{index}].name",
                    f"group `{group.name}` has the name of a department, whose group bimkit makes",
                )
            )

    entries = list(enumerate(people.people))
    problems += duplicates(
        ((p.id, Source(PEOPLE_FILE, f"people[{i}].id")) for i, p in entries),
        lambda person_id: f"person id `{person_id}`",
    )
    problems += duplicates(
        (
            (p.extension, Source(PEOPLE_FILE, f"people[{i}].extension"))
            for i, p in entries
            if p.extension is not None
        ),
        lambda ext: f"extension {ext}",
    )
    problems += duplicates(
        (
            (name, Source(USERNAMES_FILE, f"usernames.{person_id}"))
            for person_id, name in registry.items()
        ),
        lambda name: f"recorded username `{name}`",
    )
    for name, person_id in sorted(retired.items()):
        if name in registry.values():
            problems.append(
                Problem(
                    USERNAMES_FILE,
                    f"retired.{name}",
                    f"`{name}` is retired (given up by {person_id}) but also recorded as a "
                    "current username; a retired username is never used again",
                )
            )
    holder = {**retired, **{name: person_id for person_id, name in registry.items()}}
    present = {p.id for p in people.people}
    for index, person in entries:
        path = f"people[{index}]"
        if person.department not in dept_ids:
            problems.append(
                Problem(
                    PEOPLE_FILE,
                    f"{path}.department",
                    f"`{person.department}` is not a department in " + DEPARTMENTS_FILE,
                )
            )
        for g_index, group_name in enumerate(person.groups):
            if group_name not in group_names and group_name not in dept_ids:
                problems.append(
                    Problem(
                        PEOPLE_FILE,
                        f"{path}.groups[{g_index}]",
                        f"group `{group_name}` is not in {GROUPS_FILE}",
                    )
                )
        if person.phone_mac is not None and person.extension is None:
            problems.append(
                Problem(
                    PEOPLE_FILE,
                    f"{path}.phone_mac",
                    "a phone needs an extension: set `extension` or remove `phone_mac`",
                )
            )
        owner = holder.get(person.username) if person.username else None
        if person.username in retired:
            problems.append(
                Problem(
                    PEOPLE_FILE,
                    f"{path}.username",
                    f"username `{person.username}` was retired by a rename (id {owner}); "
                    "usernames are never reused",
                )
            )
        elif owner is not None and owner != person.id:
            state = "another person" if owner in present else "a person who has left"
            problems.append(
                Problem(
                    PEOPLE_FILE,
                    f"{path}.username",
                    f"username "
                    f"`{person.username}` was given to {state} (id {owner}); "
                    "usernames are never reused",
                )
            )
    problems += duplicates(
        (
            (assignment.by_person[p.id], Source(PEOPLE_FILE, f"people[{i}].username"))
            for i, p in entries
            if p.id in assignment.by_person
        ),
        lambda name: f"username `{name}`",
    )
    return problems


def unnameable_people(people: PeopleFile, registry: dict[str, str]) -> list[Problem]:
    """People who need a derived username but whose names have no letters to derive it from."""
    problems = []
    for index, person in enumerate(people.people):
        if person.username is None and person.id not in registry:
            try:
                username_base(person.given_name, person.family_name)
            except ValueError as error:
                problems.append(Problem(PEOPLE_FILE, f"people[{index}]", str(error)))
    return problems


def _in_cycle(start: str, parents: dict[str, str | None]) -> bool:
    seen = {start}
    current = parents.get(start)
    while current is not None:
        if current in seen:
            return current == start
        seen.add(current)
        current = parents.get(current)
    return False


def sign_in_problems(estate: Estate) -> list[Problem]:
    """Sites house real departments; the sign-in rules name real sites, workstations and
    groups (a department, a group of groups.yaml or a müdürlük's managers' group)."""
    problems = []
    known = (
        set(estate.departments)
        | set(estate.groups)
        | {managers_group(d.id) for d in estate.departments.values() if d.parent is None}
    )
    for site in estate.sites.values():
        for index, department in enumerate(site.departments):
            if department not in estate.departments:
                problems.append(Problem(site.source.file, f"departments[{index}]",
                                        f"`{department}` is not a department"))  # fmt: skip
    policy = estate.config.workstations.sign_in
    workstations = {h.name for h in estate.hosts_with(Role.workstation)}
    for kind, rules, names in (("sites", policy.sites, set(estate.sites)),
                               ("hosts", policy.hosts, workstations)):  # fmt: skip
        for name, rule in rules.items():
            path = f"workstations.sign_in.{kind}.{name}"
            if name not in names:
                what = "a site" if kind == "sites" else "a workstation"
                problems.append(Problem(ESTATE_FILE, path, f"`{name}` is not {what}"))
            for field, groups in (("add", rule.add), ("only", rule.only or [])):
                problems += [
                    Problem(ESTATE_FILE, f"{path}.{field}[{index}]",
                            f"`{group}` is no group or department")
                    for index, group in enumerate(groups)
                    if group not in known
                ]  # fmt: skip
    return problems
