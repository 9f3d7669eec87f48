"""A switch's intended configuration and the way from its running one there (pure).

The inventory hands each switch its vendor-neutral plan (`bimkit.model.switching`)
as host data; `intended_config` renders it with the platform's template, and
`remediation` asks hier_config for the commands that take the running
configuration to the intended one. Only what bimkit manages is compared
(`managed`): the account bimkit signs in with, ports outside the plan and
anything else the admins keep by hand are never touched.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig

from roles.templates import render

VLAN = r"vlan (?!1$)\d+$"
"""VLANs bimkit owns: all but VLAN 1, which no platform lets anyone remove."""


@dataclass(frozen=True)
class Driver:
    """How bimkit speaks to one platform."""

    hier_config: Platform
    netmiko: str
    """netmiko's device_type."""
    show_running: str
    comment: str
    """What starts a comment line in the platform's configuration."""
    managed: tuple[str, ...]
    """Regular expressions for the top-level lines bimkit owns; `{ports}` and `{mgmt}` are
    filled in with the planned ports and the management VLAN."""
    show_snmp_users: str


DRIVERS: dict[str, Driver] = {
    "cisco_ios": Driver(
        hier_config=Platform.CISCO_IOS,
        netmiko="cisco_ios",
        show_running="show running-config",
        comment="!",
        managed=(
            r"hostname ",
            r"ip domain-name ",
            r"clock timezone ",
            VLAN,
            r"ip dhcp snooping",
            r"interface GigabitEthernet1/0/({ports})$",
            r"interface Vlan{mgmt}$",
            r"ip default-gateway ",
            r"ntp server ",
            r"logging host ",
            r"snmp-server group ",
            r"username ",
            r"ip ssh pubkey-chain$",
        ),
        show_snmp_users="show snmp user",
    ),
    "aruba_aoss": Driver(
        hier_config=Platform.HP_PROCURVE,
        netmiko="hp_procurve",
        show_running="show running-config",
        comment=";",
        managed=(
            r"hostname ",
            r"time timezone ",
            r"timesync ",
            r"ntp ",
            r"logging \d",
            r"ip default-gateway ",
            r"interface ({ports})$",
            VLAN,
            r"dhcp-snooping",
            r"spanning-tree",
            r"snmpv3 enable$",
            r"snmpv3 group ",
            r"ip ssh public-key ",
        ),
        show_snmp_users="show snmpv3 user",
    ),
    "huawei_vrp": Driver(
        hier_config=Platform.HUAWEI_VRP,
        netmiko="huawei",
        show_running="display current-configuration",
        comment="#",
        managed=(
            r"sysname ",
            r"clock timezone ",
            r"stp bpdu-protection$",
            r"dhcp enable$",
            r"dhcp snooping enable$",
            VLAN,
            r"interface Vlanif{mgmt}$",
            r"interface GigabitEthernet0/0/({ports})$",
            r"ip route-static 0\.0\.0\.0 ",
            r"ntp-service unicast-server ",
            r"info-center loghost ",
            r"snmp-agent$",
            r"snmp-agent sys-info version ",
            r"snmp-agent group ",
            r"aaa$",
            r"rsa peer-public-key ",
            r"ssh user ",
        ),
        show_snmp_users="display snmp-agent usm-user",
    ),
}


def driver(platform: str) -> Driver:
    return DRIVERS[platform]


def port_ranges(numbers: Iterable[int]) -> str:
    """[1, 2, 3, 5] -> "1-3,5", as AOS-S writes port lists."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def key_hash(public_key: str) -> str:
    """IOS's `key-hash ssh-rsa`: the MD5 of the key's blob, as IOS shows it in its config."""
    blob = base64.b64decode(public_key.split()[1])
    return hashlib.md5(blob, usedforsecurity=False).hexdigest().upper()


def tagged_ports(plan: dict[str, Any], vlan: int) -> list[int]:
    """Trunk ports carrying `vlan` tagged (a trunk's native VLAN is untagged)."""
    return [
        port["number"]
        for port in plan["ports"]
        if port["trunk"] and vlan in port["tagged_vlans"] and port["access_vlan"] != vlan
    ]


def template_context(plan: dict[str, Any]) -> dict[str, Any]:
    netmask = str(IPv4Network(plan["subnet"]).netmask)
    return {
        "p": {**plan, "netmask": netmask},
        "tagged_ports": tagged_ports,
        "port_ranges": port_ranges,
        "key_hash": key_hash,
    }


def intended_config(plan: dict[str, Any]) -> str:
    """The switch's configuration as its platform writes it (what bimkit owns of it)."""
    return render(f"switch/{plan['platform']}.j2", **template_context(plan))


def credential_lines(plan: dict[str, Any], snmp_auth: str, snmp_priv: str) -> list[str]:
    """Lines that carry secrets: the device never shows them back, so they are sent only
    when the SNMP user is missing (`snmp_user_missing`), and never logged."""
    text = render(
        f"switch/{plan['platform']}-credentials.j2",
        **template_context(plan), snmp_auth=snmp_auth, snmp_priv=snmp_priv,
    )  # fmt: skip
    return [line for line in text.splitlines() if line.strip()]


def snmp_user_missing(plan: dict[str, Any], shown: str) -> bool:
    """`shown`: the platform's listing of SNMPv3 users."""
    return re.search(rf"\b{re.escape(plan['snmp_user'])}\b", shown) is None


def _managed_line(plan: dict[str, Any]) -> Callable[[str], bool]:
    ports = "|".join(str(port["number"]) for port in plan["ports"]) or "0"
    patterns = [
        re.compile(pattern.format(ports=ports, mgmt=plan["management_vlan"]))
        for pattern in driver(plan["platform"]).managed
    ]
    login = re.compile(rf"(username|local-user|ssh user) {re.escape(plan['login_user'])}\b")

    def managed(line: str) -> bool:
        return not login.match(line.strip()) and any(p.match(line) for p in patterns)

    return managed


def managed_part(plan: dict[str, Any], config: str) -> HConfig:
    """The lines of `config` that bimkit owns, parsed for the platform."""
    platform = driver(plan["platform"])
    text = "\n".join(
        line for line in config.splitlines() if not line.lstrip().startswith(platform.comment)
    )
    parsed = get_hconfig(platform.hier_config, text)
    managed = _managed_line(plan)
    owned = get_hconfig(platform.hier_config)
    for child in parsed.children:
        if managed(child.text):
            kept = owned.add_deep_copy_of(child)
            for grandchild in list(kept.children):
                if not managed(grandchild.text) and child.text.startswith(("ip ssh", "aaa")):
                    kept.children.delete(grandchild)  # the login account's own key and user
    return owned


def remediation(plan: dict[str, Any], running: str) -> list[str]:
    """The commands, in order and indented as the platform takes them, from `running` to
    the intended configuration. Empty when the switch is as planned."""
    work = WorkflowRemediation(
        managed_part(plan, running), managed_part(plan, intended_config(plan))
    )
    return list(work.remediation_config.dump_simple())


def drift(plan: dict[str, Any], running: str) -> list[str]:
    """What differs from the plan: `+ line` missing on the switch, `- line` there unplanned."""
    have = managed_part(plan, running)
    want = managed_part(plan, intended_config(plan))
    missing = [f"+ {line}" for line in want.difference(have).dump_simple()]
    extra = [f"- {line}" for line in have.difference(want).dump_simple()]
    return missing + extra
