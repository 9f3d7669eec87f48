"""The validated estate: what every deploy, report and DR job asks questions of.

Built only by `bimkit.model.load` once every rule holds, so the values here
are final: addresses resolved, usernames assigned, policies attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from bimkit.model.schema import (
    BackupPolicy,
    Department,
    EstateConfig,
    Group,
    OsFamily,
    Person,
    Phone,
    PortRange,
    Role,
    VlanKind,
)

ROLE_SERVICES: dict[Role, str] = {
    Role.primary_dc: "active-directory",
    Role.file_server: "file-shares",
    Role.pbx: "pbx",
    Role.log_server: "logs",
}
"""Roles that hold data, and the protected service each implies on its host."""


@dataclass(frozen=True)
class Source:
    """Where in the admin's files a thing is written: for error messages."""

    file: str
    path: str


@dataclass(frozen=True)
class Vlan:
    kind: VlanKind
    id: int
    subnet: IPv4Network
    gateway: IPv4Address
    source: Source


@dataclass(frozen=True)
class Site:
    name: str
    number: int
    title: str
    block: IPv4Network
    vlans: dict[VlanKind, Vlan]
    source: Source
    departments: tuple[str, ...] = ()
    """Departments housed in the building: their staff sign in at its workstations."""

    def vlan(self, kind: VlanKind) -> Vlan:
        """The site's VLAN of that kind; KeyError names the site when it has none."""
        try:
            return self.vlans[kind]
        except KeyError:
            raise KeyError(f"site `{self.name}` has no `{kind}` VLAN") from None


@dataclass(frozen=True)
class PlacedHost:
    """A host with its site, VLAN and final address."""

    name: str
    site: str
    roles: frozenset[Role]
    os: OsFamily
    vlan: Vlan
    address: IPv4Address
    mac: str | None
    protected_services: tuple[str, ...]
    release: str
    """Debian release (Linux hosts): the host's own, else the estate's."""
    description: str
    source: Source
    ports: tuple[PortRange, ...] = ()
    """Switches: the port plan."""

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Member:
    """A person with the username, mail address and groups bimkit gives them."""

    person: Person
    username: str
    email: str
    source: Source

    @property
    def display_name(self) -> str:
        return f"{self.person.given_name} {self.person.family_name}"


@dataclass(frozen=True)
class Estate:
    config: EstateConfig
    sites: dict[str, Site]
    hosts: dict[str, PlacedHost]
    departments: dict[str, Department]
    groups: dict[str, Group]
    members: list[Member]
    recorded_usernames: dict[str, str] = field(default_factory=dict)
    """`directory/usernames.yaml` as read: person id -> username, leavers included."""
    retired_usernames: dict[str, str] = field(default_factory=dict)
    """Usernames given up by a rename: username -> person id (never handed out again)."""
    new_usernames: dict[str, str] = field(default_factory=dict)
    """Usernames assigned in this load and not yet recorded in `directory/usernames.yaml`."""
    data_root: Path | None = None
    """The folder the data was read from (beside it: the pinned SSH host keys)."""
    site_phones: dict[str, tuple[Phone, ...]] = field(default_factory=dict)
    """Each site's IP phones (`sites/<name>.yaml` `phones`)."""
    extension_holders: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """`directory/extensions.yaml`: extension -> who has held it, oldest first."""

    def hosts_with(self, role: Role) -> list[PlacedHost]:
        return [host for host in self.hosts.values() if host.has(role)]

    def hosts_at(self, site: str) -> list[PlacedHost]:
        return [host for host in self.hosts.values() if host.site == site]

    @property
    def primary_dc(self) -> PlacedHost:
        (primary,) = self.hosts_with(Role.primary_dc)
        return primary

    @property
    def domain_controllers(self) -> list[PlacedHost]:
        """The primary DC first, then the additional DCs."""
        return [self.primary_dc, *self.hosts_with(Role.additional_dc)]

    @property
    def protected_hosts(self) -> list[PlacedHost]:
        """Hosts with at least one backed-up service."""
        return [host for host in self.hosts.values() if host.protected_services]

    @property
    def dr_repository_host(self) -> PlacedHost:
        """The backup server at the DR site that holds every host's repository."""
        servers = self.hosts_with(Role.backup_server)
        at_dr = [host for host in servers if host.site == self.config.dr_site]
        return (at_dr or servers)[0]

    @property
    def dns_servers(self) -> list[IPv4Address]:
        return [dc.address for dc in self.domain_controllers]

    @property
    def ntp_servers(self) -> list[IPv4Address]:
        return [dc.address for dc in self.domain_controllers]

    @property
    def syslog_servers(self) -> list[IPv4Address]:
        return [host.address for host in self.hosts_with(Role.log_server)]

    def policy(self, service: str) -> BackupPolicy:
        return self.config.backup_policies[service]

    def units_of(self, department_id: str) -> list[Department]:
        """The departments whose parent is `department_id`."""
        return [d for d in self.departments.values() if d.parent == department_id]

    def department_path(self, department_id: str) -> list[Department]:
        """The department and its parents, the müdürlük first."""
        chain = [self.departments[department_id]]
        while chain[0].parent is not None:
            chain.insert(0, self.departments[chain[0].parent])
        return chain
