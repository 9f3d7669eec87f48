"""Each switch's intended state, vendor-neutral (pure), and the rules its port plan must keep.

`switch_plan` turns a switch's port plan and the estate into one `SwitchPlan`;
every platform's template (bimkit/network/templates) renders from it, so the
three platforms cannot disagree on what a port is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network
from zoneinfo import ZoneInfo

from bimkit.errors import Problem
from bimkit.model.estate import Estate, PlacedHost, Source
from bimkit.model.names import fold_ascii
from bimkit.model.platforms import PLATFORMS
from bimkit.model.schema import OsFamily, PortRange, PortUse, Role, VlanKind

PEOPLE_FILE = "directory/people.yaml"

ACCESS_VLAN: dict[PortUse, VlanKind] = {
    PortUse.server: VlanKind.servers,
    PortUse.workstation: VlanKind.data,
    PortUse.phone: VlanKind.data,  # the PC behind the phone; the phone itself is tagged voice
    PortUse.camera: VlanKind.cameras,
}
ACCESS_POINT_TAGGED = (VlanKind.data, VlanKind.guests)
"""SSIDs an access point bridges; its own address sits in the untagged management VLAN."""
POWERED = frozenset({PortUse.phone, PortUse.camera, PortUse.access_point})
SNOOPED = (VlanKind.data, VlanKind.voice, VlanKind.guests)
"""VLANs whose clients get DHCP: snooping guards them, trusting only the uplinks."""


@dataclass(frozen=True)
class SwitchVlan:
    id: int
    name: str


@dataclass(frozen=True)
class SwitchPort:
    number: int
    use: PortUse
    description: str
    trunk: bool
    access_vlan: int | None
    """Access ports: their VLAN. Trunks: the untagged (native) VLAN, if any."""
    voice_vlan: int | None
    tagged_vlans: tuple[int, ...]
    """Trunks: the VLANs carried tagged (the native one included, as IOS lists it)."""
    poe: bool
    edge: bool
    """Leads to one device: portfast, BPDU guard and storm control."""
    dhcp_trusted: bool


@dataclass(frozen=True)
class SwitchAdmin:
    username: str
    ssh_keys: tuple[str, ...]


@dataclass(frozen=True)
class SwitchPlan:
    hostname: str
    platform: OsFamily
    domain: str
    management_vlan: int
    address: IPv4Address
    subnet: IPv4Network
    gateway: IPv4Address
    vlans: tuple[SwitchVlan, ...]
    ports: tuple[SwitchPort, ...]
    dhcp_snooping_vlans: tuple[int, ...]
    ntp_servers: tuple[IPv4Address, ...]
    syslog_servers: tuple[IPv4Address, ...]
    timezone: str
    utc_offset_hours: int
    snmp_user: str
    snmp_group: str
    login_user: str
    admins: tuple[SwitchAdmin, ...]
    storm_control_percent: float


def vlans_of(use: PortUse, estate: Estate, site: str) -> set[VlanKind]:
    """The VLAN kinds a port of this use needs at its site (uplinks need none of their own)."""
    if use is PortUse.uplink:
        return set()
    if use is PortUse.access_point:
        present = estate.sites[site].vlans
        return {VlanKind.management} | {kind for kind in ACCESS_POINT_TAGGED if kind in present}
    needed = {ACCESS_VLAN[use]}
    if use is PortUse.phone:
        needed.add(VlanKind.voice)
    return needed


def trunk_vlans(ports: PortRange, estate: Estate, site: str) -> list[VlanKind]:
    """What an uplink carries: its own list, else every VLAN of the site."""
    if ports.vlans is not None:
        return list(ports.vlans)
    return sorted(estate.sites[site].vlans, key=lambda kind: estate.sites[site].vlans[kind].id)


PORT_DESCRIPTION_LENGTH = 64
"""What every platform's port name holds (AOS-S's `name` is the shortest)."""


def port_description(text: str) -> str:
    """A port's description as every switch CLI takes it: ASCII ("giriş kameraları" is
    "giris kameralari"), letters, digits and plain punctuation only (a `"` ends AOS-S's
    quoted name, a `?` asks IOS and AOS-S for help in the middle of the line), and at most
    PORT_DESCRIPTION_LENGTH characters."""
    plain = re.sub(r"[^a-z0-9 ._/()-]", " ", fold_ascii(text))
    return " ".join(plain.split())[:PORT_DESCRIPTION_LENGTH].rstrip()


def _port(number: int, ports: PortRange, estate: Estate, switch: PlacedHost) -> SwitchPort:
    site = estate.sites[switch.site]
    poe = ports.poe if ports.poe is not None else ports.use in POWERED
    description = port_description(ports.description)
    access: int | None = None
    voice: int | None = None
    tagged: tuple[int, ...] = ()
    if ports.use is PortUse.uplink:
        tagged = tuple(
            sorted(site.vlans[kind].id for kind in trunk_vlans(ports, estate, site.name))
        )
    elif ports.use is PortUse.access_point:
        access = site.vlans[VlanKind.management].id
        tagged = tuple(
            sorted(site.vlans[kind].id for kind in vlans_of(ports.use, estate, site.name))
        )
    else:
        access = site.vlans[ACCESS_VLAN[ports.use]].id
        voice = site.vlans[VlanKind.voice].id if ports.use is PortUse.phone else None
    return SwitchPort(
        number=number,
        use=ports.use,
        description=description,
        trunk=bool(tagged),
        access_vlan=access,
        voice_vlan=voice,
        tagged_vlans=tagged,
        poe=poe,
        edge=ports.use is not PortUse.uplink,
        dhcp_trusted=ports.use is PortUse.uplink,
    )


def switch_admins(estate: Estate) -> tuple[SwitchAdmin, ...]:
    """Active members of the admins group, each with their SSH keys."""
    group = estate.config.switching.admins_group
    return tuple(
        SwitchAdmin(member.username, tuple(member.person.ssh_keys))
        for member in sorted(estate.members, key=lambda m: m.username)
        if member.person.active and group in member.person.groups
    )


def utc_offset_hours(timezone: str) -> int:
    """Whole hours east of UTC now (Türkiye keeps +3 all year since 2016)."""
    offset = datetime.now(ZoneInfo(timezone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 3600)


def switch_plan(estate: Estate, switch: PlacedHost) -> SwitchPlan:
    """The switch's intended state; the estate passed validation (`switch_problems`)."""
    config = estate.config
    site = estate.sites[switch.site]
    ports = tuple(
        _port(number, ports, estate, switch)
        for ports in switch.ports
        for number in range(ports.first, ports.last + 1)
    )
    return SwitchPlan(
        hostname=switch.name,
        platform=switch.os,
        domain=config.domain,
        management_vlan=switch.vlan.id,
        address=switch.address,
        subnet=switch.vlan.subnet,
        gateway=switch.vlan.gateway,
        vlans=tuple(
            SwitchVlan(vlan.id, str(kind))
            for kind, vlan in sorted(site.vlans.items(), key=lambda item: item[1].id)
        ),
        ports=tuple(sorted(ports, key=lambda port: port.number)),
        dhcp_snooping_vlans=tuple(sorted(site.vlans[k].id for k in SNOOPED if k in site.vlans)),
        ntp_servers=tuple(estate.ntp_servers),
        syslog_servers=tuple(estate.syslog_servers),
        timezone=config.timezone,
        utc_offset_hours=utc_offset_hours(config.timezone),
        snmp_user=config.switching.snmp.user,
        snmp_group=config.switching.snmp.group,
        login_user=config.switching.login_user,
        admins=switch_admins(estate),
        storm_control_percent=config.switching.storm_control_percent,
    )


def _at(switch: PlacedHost, path: str) -> Source:
    return Source(switch.source.file, f"{switch.source.path}.{path}")


def switch_problems(estate: Estate) -> list[Problem]:
    """What no switch's platform or port plan may hold; every problem names the switch."""
    problems: list[Problem] = []

    def problem(where: Source, message: str) -> None:
        problems.append(Problem(where.file, where.path, message))

    switches = sorted(estate.hosts_with(Role.switch), key=lambda host: host.name)
    for switch in switches:
        platform = PLATFORMS.get(switch.os)
        if platform is None:
            supported = ", ".join(str(name) for name in PLATFORMS)
            problem(_at(switch, "os"), f"switch `{switch.name}`: bimkit has no configuration "
                                       f"for `{switch.os}`; it configures {supported}")  # fmt: skip
            continue
        site = estate.sites[switch.site]
        if switch.vlan.kind is not VlanKind.management:
            problem(_at(switch, "vlan"), f"switch `{switch.name}` must sit in the management "
                                         f"VLAN, not `{switch.vlan.kind}`")  # fmt: skip
        used: set[VlanKind] = {VlanKind.management}
        for index, ports in enumerate(switch.ports):
            where = _at(switch, f"ports[{index}]")
            needed = vlans_of(ports.use, estate, switch.site)
            for kind in sorted(needed - set(site.vlans)):
                problem(where, f"switch `{switch.name}`: {ports.use} ports need the {kind} "
                               f"VLAN, which site `{switch.site}` does not have")  # fmt: skip
            used |= needed & set(site.vlans)
            if ports.last > platform.max_port:
                problem(where, f"switch `{switch.name}`: port {ports.last} is past the last "
                               f"port ({platform.max_port}) of a {platform.title} "
                               "access switch")  # fmt: skip
            if ports.vlans is not None and ports.use is not PortUse.uplink:
                problem(where, f"switch `{switch.name}`: only uplinks take `vlans` "
                               f"(these ports are for {ports.use})")  # fmt: skip
            if ports.poe and ports.use is PortUse.uplink:
                problem(where, f"switch `{switch.name}`: an uplink does not give PoE")
            for kind in sorted(set(ports.vlans or []) - set(site.vlans)):
                problem(where, f"switch `{switch.name}`: the trunk carries VLAN {kind}, "
                               f"which site `{switch.site}` does not have")  # fmt: skip
        uplinks = [(i, p) for i, p in enumerate(switch.ports) if p.use is PortUse.uplink]
        if switch.ports and not uplinks:
            problem(_at(switch, "ports"), f"switch `{switch.name}` has no uplink port")
        for index, ports in uplinks:
            carried = set(trunk_vlans(ports, estate, switch.site))
            for kind in sorted(used - carried):
                problem(_at(switch, f"ports[{index}].vlans"),
                        f"switch `{switch.name}`: uplink ports {ports.first}-{ports.last} "
                        f"miss VLAN {kind} ({site.vlans[kind].id}), used on the switch's "
                        "own ports")  # fmt: skip
        if platform.whole_percent_storm_control:
            percent = estate.config.switching.storm_control_percent
            if percent != int(percent) or not 1 <= percent <= 99:
                problem(Source("estate.yaml", "switching.storm_control_percent"),
                        f"switch `{switch.name}`: {platform.title} limits storms in whole "
                        f"percent from 1 to 99, not {percent}")  # fmt: skip
        for admin in switch_admins(estate):
            for key in admin.ssh_keys:
                key_type = key.split()[0]
                if key_type not in platform.ssh_key_types:
                    member = next(m for m in estate.members if m.username == admin.username)
                    problem(Source(PEOPLE_FILE, f"{member.source.path}.ssh_keys"),
                            f"switch `{switch.name}`: {platform.title} takes "
                            f"{', '.join(sorted(platform.ssh_key_types))} keys, not "
                            f"{key_type} (admin `{admin.username}`)")  # fmt: skip
    return problems
