"""Plan pyinfra's inventory from the estate: groups of (host name, host data).

Pure: the repository's `inventory.py` calls `plan_inventory` and hands the
result to pyinfra. Host data carries what roles need to know about the
estate and never a secret; secrets are read on the control machine by
`bimkit.secrets` when an operation needs one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bimkit.ad_sites import desired_topology, topology_state
from bimkit.directory import desired_directory, directory_state
from bimkit.file_shares import file_server_data, mounted_shares
from bimkit.hostkeys import known_hosts_path, recorded_keys
from bimkit.lab.state import LabPaths, lab_enabled
from bimkit.model.addressing import reverse_zones
from bimkit.model.dhcp import dhcp_subnets, provisioning_url
from bimkit.model.estate import Estate, PlacedHost
from bimkit.model.schema import OsFamily, Role, VlanKind
from bimkit.model.switching import switch_plan
from bimkit.model.telephony import sip_devices
from bimkit.sign_in import access_filter, admin_keys, sign_in_groups

HostEntry = tuple[str, dict[str, Any]]

ROLE_GROUPS: dict[str, tuple[Role, ...]] = {
    "domain_controllers": (Role.primary_dc, Role.additional_dc),
    "additional_dcs": (Role.additional_dc,),
    "pbx": (Role.pbx,),
    "switches": (Role.switch,),
    "workstations": (Role.workstation,),
    "file_servers": (Role.file_server,),
    "log_servers": (Role.log_server,),
    "backup_servers": (Role.backup_server,),
    "dr_hosts": (Role.dr_host,),
}
"""pyinfra group -> the roles that put a host in it. `domain_controllers` holds every DC."""


def site_group(site: str) -> str:
    """The pyinfra group of a site's hosts, for `--limit site_<name>`."""
    return f"site_{site}"


def host_data(estate: Estate, host: PlacedHost) -> dict[str, Any]:
    """What a host's deploys need to know, as plain JSON-friendly values."""
    config = estate.config
    data: dict[str, Any] = {
        "site": host.site,
        "site_number": estate.sites[host.site].number,
        "roles": sorted(str(role) for role in host.roles),
        "os": str(host.os),
        "release": host.release,
        "address": str(host.address),
        "vlan": str(host.vlan.kind),
        "vlan_id": host.vlan.id,
        "subnet": str(host.vlan.subnet),
        "gateway": str(host.vlan.gateway),
        "protected_services": list(host.protected_services),
        "domain": config.domain,
        "realm": config.realm,
        "netbios_domain": config.netbios_domain,
        "timezone": config.timezone,
        "dns_servers": [str(address) for address in estate.dns_servers],
        "ntp_servers": [str(address) for address in estate.ntp_servers],
        "ntp_upstream": list(config.ntp_upstream),
        "dns_forwarders": [str(address) for address in config.dns_forwarders],
        "syslog_servers": [str(address) for address in estate.syslog_servers],
        "dr_site": config.dr_site,
        "municipality": config.municipality,  # names the estate CA (bimkit.tls)
        "peers": [
            {"name": peer.name, "address": str(peer.address)}
            for peer in sorted(estate.hosts.values(), key=lambda p: p.address)
        ],
    }
    if config.apt_proxy:
        data["apt_proxy"] = config.apt_proxy
    if host.has(Role.primary_dc) or host.has(Role.additional_dc):
        data["dc_role"] = "primary" if host.has(Role.primary_dc) else "additional"
        data["primary_dc"] = estate.primary_dc.name
        data["primary_dc_address"] = str(estate.primary_dc.address)
        data["ntp_clients"] = str(config.supernet)
        data["dhcp"] = dhcp_data(estate)
        # Every DC: the sites, links and where each DC stands (the primary applies them;
        # each DC checks the records of its own site and those it covers).
        data["ad_sites"] = topology_state(desired_topology(estate))
    if host.has(Role.workstation) and host.os is OsFamily.debian:
        data["workstation"] = config.workstations.model_dump(exclude={"sign_in"})
        # Who may sign in here, how long offline, and the admins' keys (bimkit.sign_in).
        data["workstation"]["sign_in_groups"] = sign_in_groups(estate, host)
        data["workstation"]["access_filter"] = access_filter(estate, host)
        data["workstation"]["offline_days"] = config.workstations.sign_in.offline_days
        data["workstation"]["admin_keys"] = admin_keys(estate)
        server = file_server_for(estate)
        if server is not None:
            data["workstation"]["mounts"] = mounted_shares(estate, f"{server}.{config.realm}")
    if host.has(Role.file_server) and host.os is OsFamily.debian:
        data["file_shares"] = file_server_data(estate)
    if host.os is OsFamily.debian and (host.has(Role.workstation) or host.has(Role.file_server)):
        # Domain members join, and check their membership, on the primary DC: a new
        # computer account is there at once, while another DC sees it after replication.
        data["join_dc"] = f"{estate.primary_dc.name}.{config.realm}"
        # Where the deploy readies the computer account with a one-time password (roles/join).
        data["join_dc_host"] = estate.primary_dc.name
        data["join_dc_address"] = str(estate.primary_dc.address)
    if host.has(Role.primary_dc):
        # The primary applies these; the other DCs get them by replication.
        data["directory"] = directory_state(desired_directory(estate))
        # Password and lockout policy; named so that no key looks like a secret.
        data["account_policy"] = config.password_policy.model_dump()
        data["reverse_zones"] = reverse_zones(
            vlan.subnet for site in estate.sites.values() for vlan in site.vlans.values()
        )
    if host.protected_services:
        policies = {name: config.backup_policies[name] for name in host.protected_services}
        data["backup_policies"] = {
            name: policy.model_dump(
                mode="json",
                include={"paths", "excludes", "pre_hooks", "post_hooks", "schedule", "verify"},
            )
            for name, policy in policies.items()
        }
        data["backup_notify"] = config.backup_notify.model_dump()
        data["dr_repository_address"] = str(estate.dr_repository_host.address)
    uses_s3 = config.dr_s3 is not None and config.dr_repository == "s3"
    if (host.protected_services or host.has(Role.backup_server)) and uses_s3:
        assert config.dr_s3 is not None
        data["dr_s3"] = config.dr_s3.model_dump(include={"endpoint", "bucket"})
    if host.has(Role.backup_server):
        data["repositories"] = {
            protected.name: {
                service: {
                    "retention": config.backup_policies[service].retention.model_dump(),
                    "rpo_seconds": int(config.backup_policies[service].rpo.total_seconds()),
                }
                for service in protected.protected_services
            }
            for protected in sorted(estate.protected_hosts, key=lambda h: h.name)
        }
    if host.has(Role.dr_host):
        data["drill"] = drill_data(estate, host)
        log_servers = estate.hosts_with(Role.log_server)
        if log_servers:
            # It keeps each log server's chain of seals, which only that server may add to.
            data["seal_store"] = {"log_servers": sorted(h.name for h in log_servers)}
    if host.has(Role.log_server):
        data["log_archive"] = log_archive_data(estate)
    if host.has(Role.pbx):
        data["pbx"] = pbx_data(estate)
    if host.has(Role.switch) and host.os in SWITCH_DRIVERS:
        plan = switch_plan(estate, host)
        data["switch"] = json.loads(json.dumps(dataclasses.asdict(plan), default=str))
        data["netmiko_device_type"] = SWITCH_DRIVERS[host.os]
        data["netmiko_host"] = str(host.address)
    if host.os is OsFamily.debian:
        data["ssh_hostname"] = str(host.address)
    return data


SWITCH_DRIVERS = {
    OsFamily.cisco_ios: "cisco_ios",
    OsFamily.aruba_aoss: "hp_procurve",
    OsFamily.huawei_vrp: "huawei",
}
"""netmiko's device type for each platform bimkit configures."""
SWITCH_CONNECTOR = "@netmiko/"
"""Inventory names of switches start with this: pyinfra then reaches them with
roles.switch.connector (registered as the `netmiko` connector)."""


def inventory_name(host: PlacedHost) -> str:
    return SWITCH_CONNECTOR + host.name if host.os in SWITCH_DRIVERS else host.name


def file_server_for(estate: Estate) -> str | None:
    """The file server workstations mount the departments' shares from: the one at the
    primary DC's site (the centre), else the first; None when the estate has none."""
    servers = sorted(estate.hosts_with(Role.file_server), key=lambda server: server.name)
    central = [server for server in servers if server.site == estate.primary_dc.site]
    return (central or servers)[0].name if servers else None


HA_ROLES = ("primary", "standby", "backup")


def dhcp_data(estate: Estate) -> dict[str, Any]:
    """What Kea on the DCs serves: subnets, pools, reservations, options, the HA pair."""
    dcs = sorted(estate.domain_controllers, key=lambda dc: (not dc.has(Role.primary_dc), dc.name))
    return {
        "lease_seconds": estate.config.dhcp.lease_seconds,
        "domain": estate.config.realm,
        "dns_servers": [str(address) for address in estate.dns_servers],
        "ntp_servers": [str(address) for address in estate.ntp_servers],
        "provisioning_url": provisioning_url(estate),
        "subnets": [dataclasses.asdict(subnet) for subnet in dhcp_subnets(estate)],
        # Hot standby: the primary DC serves, the next one takes over when it stops.
        "peers": [
            {
                "name": dc.name,
                "address": str(dc.address),
                "role": HA_ROLES[min(index, 2)],
            }
            for index, dc in enumerate(dcs)
        ],
    }


def pbx_data(estate: Estate) -> dict[str, Any]:
    """What Asterisk serves: every SIP device, the queues, the trunk, emergency numbers."""
    telephony = estate.config.telephony
    return {
        "devices": [dataclasses.asdict(device) for device in sip_devices(estate)],
        "queues": {name: queue.model_dump() for name, queue in telephony.queues.items()},
        "trunk": telephony.trunk.model_dump() if telephony.trunk else None,
        "emergency_numbers": list(telephony.emergency_numbers),
        "citizen_line": telephony.citizen_line,
        "inbound_queue": telephony.inbound_queue,
        "ring_seconds": telephony.ring_seconds,
        "mail_relay": telephony.mail_relay.model_dump() if telephony.mail_relay else None,
        "asterisk_apt_source": telephony.asterisk_apt_source,
        "domain": estate.config.domain,
        "address": str(estate.hosts_with(Role.pbx)[0].address),
        "ntp_servers": [str(address) for address in estate.ntp_servers],
        "voice_vlan": next(
            (t.id for t in estate.config.vlan_plan if t.kind is VlanKind.voice), None
        ),
    }


def tsa_certificates(estate: Estate) -> str | None:
    """The TSA's CA chain (PEM) named in the data, that seals are checked against."""
    name = estate.config.logs.tsa.certificates
    if name is None or estate.data_root is None:
        return None
    return (estate.data_root / name).read_text(encoding="utf-8")


def log_archive_data(estate: Estate) -> dict[str, Any]:
    """What the log server needs: the archive's rules, the TSA, and who may send what."""
    logs = estate.config.logs
    hosts = sorted(estate.hosts.values(), key=lambda h: h.address)
    dr_hosts = estate.hosts_with(Role.dr_host)
    return {
        "retention_years": logs.retention_years,
        "readers": logs.readers,
        "seal_schedule": logs.seal_schedule,
        "tsa_url": logs.tsa.url,
        "tsa_identity": logs.tsa.identity,
        "tsa_certificates": tsa_certificates(estate),
        "notify": estate.config.backup_notify.model_dump(),
        # Files are named after the sender as the data knows it, never as it says.
        "sources": {str(h.address): h.name for h in hosts},
        # Plain syslog (no TLS) is taken from these addresses only.
        "network_devices": {str(h.address): h.name for h in hosts if h.os.is_network_device},
        # Lease events are taken from these only, with their own certificates.
        "dhcp_servers": {str(h.address): h.name for h in dhcp_servers(estate)},
        "longest_lease_seconds": estate.config.dhcp.lease_seconds,
        "static_addresses": static_addresses(estate),
        # Each record of the chain is copied to the DR host as it is made; the inventory
        # adds the host keys pinned for it (estate_inventory).
        "seal_store": {"host": dr_hosts[0].name, "address": str(dr_hosts[0].address),
                       "host_keys": []} if dr_hosts else None,
    }  # fmt: skip


def dhcp_servers(estate: Estate) -> list[PlacedHost]:
    """The DCs that run Kea (roles/dhcp_server): Linux DCs, when some VLAN is served."""
    if not dhcp_subnets(estate):
        return []
    return [dc for dc in estate.domain_controllers if dc.os is OsFamily.debian]


def static_addresses(estate: Estate) -> dict[str, str]:
    """address -> who holds it by the data: each host, with its roles, site and MAC."""
    return {
        str(h.address): f"{h.name} ({', '.join(sorted(map(str, h.roles)))}; {h.site}"
        + (f"; MAC {h.mac})" if h.mac else ")")
        for h in sorted(estate.hosts.values(), key=lambda h: h.address)
    }


def drill_data(estate: Estate, dr_host: PlacedHost) -> dict[str, Any]:
    """What the restore drills on the DR host need: every protected service and its targets."""
    config = estate.config
    services = {
        protected.name: {
            service: {
                "paths": [str(path) for path in config.backup_policies[service].paths],
                "verify": list(config.backup_policies[service].verify),
                "allow_empty": config.backup_policies[service].allow_empty,
                "rpo_seconds": int(config.backup_policies[service].rpo.total_seconds()),
                "rto_seconds": int(config.backup_policies[service].rto.total_seconds()),
            }
            for service in protected.protected_services
        }
        for protected in sorted(estate.protected_hosts, key=lambda h: h.name)
    }
    # The sandbox must reach none of these: the DCs, the protected hosts and the DR host.
    production = {dc.address for dc in estate.domain_controllers}
    production |= {h.address for h in estate.protected_hosts} | {dr_host.address}
    pbx_hosts = estate.hosts_with(Role.pbx)
    return {
        "services": services,
        # The PBX's drill sandbox runs the PBX's own release (Asterisk needs unstable).
        "pbx_release": pbx_hosts[0].release if pbx_hosts else config.debian_release,
        "tsa_certificates": tsa_certificates(estate),
        "production_addresses": sorted(str(a) for a in production if a is not None),
        "municipality": config.municipality,
        "notify": config.backup_notify.model_dump(),
    }


def estate_inventory(estate: Estate) -> dict[str, list[HostEntry]]:
    """The inventory every deploy and command uses: `inventory.py` and `bimkit.remote`.

    With BIMKIT_LAB, the lab's running machines with the lab's key; else the
    estate's hosts, each reached over SSH only if its key is the one pinned
    in the known_hosts file beside the data (`bimkit hostkeys scan`).
    """
    groups = plan_inventory(estate)
    if lab_enabled():
        from bimkit.lab.inventory import lab_groups  # the lab imports this module

        paths = LabPaths.from_env()
        return with_store_keys(lab_groups(groups, paths), recorded_keys(paths.known_hosts))
    pinned = pin_host_keys(groups, known_hosts_path(estate))
    return with_store_keys(pinned, recorded_keys(known_hosts_path(estate)))


def with_store_keys(
    groups: dict[str, list[HostEntry]], keys: dict[str, frozenset[str]]
) -> dict[str, list[HostEntry]]:
    """The log servers' data with the pinned SSH keys of the DR host that keeps their chain.

    + keys: host name or address -> its recorded keys (`type base64`)
    """

    def pinned(data: dict[str, Any]) -> dict[str, Any]:
        store = data.get("log_archive", {}).get("seal_store")
        if not store:
            return data
        found = sorted(keys.get(store["host"], frozenset()) | keys.get(store["address"],
                                                                        frozenset()))  # fmt: skip
        return {**data, "log_archive": {**data["log_archive"],
                                        "seal_store": {**store, "host_keys": found}}}  # fmt: skip

    return {group: [(name, pinned(data)) for name, data in entries]
            for group, entries in groups.items()}  # fmt: skip


def pin_host_keys(
    groups: dict[str, list[HostEntry]], known_hosts: Path
) -> dict[str, list[HostEntry]]:
    """Every SSH host's data with strict host key checking against `known_hosts`."""
    pinned = {"ssh_known_hosts_file": str(known_hosts), "ssh_strict_host_key_checking": "yes"}
    switch = {"netmiko_known_hosts": str(known_hosts)}  # roles/switch/device.py: strict

    def pin(data: dict[str, Any]) -> dict[str, Any]:
        if "ssh_hostname" in data:
            return {**data, **pinned}
        return {**data, **switch} if "netmiko_host" in data else data

    return {
        group: [(name, pin(data)) for name, data in entries] for group, entries in groups.items()
    }


def reached_over_ssh(host: PlacedHost) -> bool:
    """Linux hosts (pyinfra's SSH) and the switches bimkit configures (netmiko's SSH)."""
    return host.os.is_linux or host.os in SWITCH_DRIVERS


def unpinned_hosts(estate: Estate) -> list[str]:
    """SSH hosts with no key in the known_hosts file beside the data."""
    recorded = recorded_keys(known_hosts_path(estate))
    return sorted(
        h.name for h in estate.hosts.values() if reached_over_ssh(h) and h.name not in recorded
    )


def plan_inventory(estate: Estate) -> dict[str, list[HostEntry]]:
    """Every pyinfra group with its hosts and their data, in a stable order."""
    hosts = sorted(estate.hosts.values(), key=lambda h: (estate.sites[h.site].number, h.name))
    entries = {host.name: (inventory_name(host), host_data(estate, host)) for host in hosts}
    groups: dict[str, list[HostEntry]] = {
        group: [entries[h.name] for h in hosts if h.roles & set(roles)]
        for group, roles in ROLE_GROUPS.items()
    }
    groups["linux"] = [entries[h.name] for h in hosts if h.os.is_linux]
    groups["windows"] = [entries[h.name] for h in hosts if h.os is OsFamily.windows]
    for site in sorted(estate.sites.values(), key=lambda s: s.number):
        groups[site_group(site.name)] = [entries[h.name] for h in hosts if h.site == site.name]
    return groups
