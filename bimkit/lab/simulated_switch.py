"""Simulated Cisco IOS access switches over real SSH, for the lab, the tests and the benchmark.

No switch firmware runs here, so this is a simulation: fake-switches' SSH
server and terminal (Twisted conch) with a command processor of our own that
keeps the configuration as IOS shows it, line by line and section by
section. It takes any configuration line, as IOS does for the commands bimkit
sends, and keeps the state a real switch would keep:

- `show running-config`, `show snmp user` (IOS never shows SNMPv3 users in its
  configuration), `write memory`;
- `configure terminal revert timer N` (needs `archive` configured) and
  `configure confirm`: without the confirmation the switch returns to the
  configuration it had when the timer was armed, as IOS's Configuration
  Replace and Rollback does;
- its management path: the switch answers on its address only while the
  management VLAN's interface has that address and the uplink carries the
  VLAN. A change that cuts it drops every session and refuses new ones, as
  a real switch would vanish from the network, until the revert timer
  brings the old configuration back.

Many switches run in one process, each on its own loopback port:

    python -m bimkit.lab.simulated_switch switches.json

where the file lists `{name, port, username, password, management_vlan,
address, uplink, minute_seconds}`; `minute_seconds` shortens the revert
timer's minutes for tests. It prints `ready` once every switch listens.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from fake_switches.cisco.cisco_core import BaseCiscoSwitchCore, CiscoShellSession
from fake_switches.command_processing.base_command_processor import BaseCommandProcessor
from fake_switches.switch_configuration import SwitchConfiguration
from fake_switches.transports.ssh_service import SwitchSshService
from twisted.internet import reactor as _reactor

reactor: Any = _reactor  # twisted's global reactor, typed by the interfaces it provides
PORT_COUNT = 52
SECTIONS = re.compile(r"^(interface \S+|vlan \d+|archive|ip ssh pubkey-chain|line .+)$")
NESTED_SECTIONS = {"ip ssh pubkey-chain": re.compile(r"^username \S+$")}
SINGLE_VALUED = (
    "hostname", "ip domain-name", "clock timezone", "ip default-gateway", "description",
    "name", "switchport access vlan", "switchport voice vlan", "switchport mode",
    "switchport trunk allowed vlan", "switchport trunk native vlan",
    "storm-control broadcast level", "storm-control multicast level", "ip address",
    "power inline", "path", "maximum", "spanning-tree portfast",
)  # fmt: skip
"""Commands that keep one value: a new one replaces the old."""


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)

    def find(self, text: str) -> Node | None:
        return next((child for child in self.children if child.text == text), None)

    def set(self, line: str) -> Node:
        """Add `line` as a child, replacing the value of a single-valued command."""
        existing = self.find(line)
        if existing is not None:
            return existing
        key = next((k for k in SINGLE_VALUED if line == k or line.startswith(k + " ")), None)
        if key is not None:
            self.children = [c for c in self.children if not c.text.startswith(key + " ")]
        child = Node(line)
        self.children.append(child)
        return child

    def remove(self, line: str) -> None:
        """`no <line>`: the exact line, else every line it begins (`no description`)."""
        if self.find(line) is not None:
            self.children = [c for c in self.children if c.text != line]
        else:
            self.children = [c for c in self.children if not c.text.startswith(line + " ")]

    def lines(self, depth: int = 0) -> list[str]:
        out = []
        for child in self.children:
            out.append(" " * depth + child.text)
            out += child.lines(depth + 1)
            if depth == 0 and child.children:
                out.append("!")
        return out


def vlan_list(text: str) -> set[int]:
    numbers: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        numbers |= set(range(int(first), int(last or first) + 1))
    return numbers


@dataclass
class Device:
    """One simulated switch: its configuration, users and management path."""

    name: str
    port: int
    username: str
    password: str
    management_vlan: int
    address: str
    uplink: str
    minute_seconds: float = 60.0
    running: Node = field(default_factory=lambda: Node(""))
    snmp_users: list[str] = field(default_factory=list)
    startup: list[str] = field(default_factory=list)
    shells: list[Any] = field(default_factory=list)
    listening: Any = None
    revert: Any = None
    pending_revert: tuple[int, Node] | None = None

    def __post_init__(self) -> None:
        # What the installer set by hand: bimkit's account, the management address, the
        # uplink as a trunk carrying every VLAN.
        self.running.set(f"hostname {self.name}")
        self.running.set(f"username {self.username} privilege 15 secret 9 $9$simulated")
        self.running.set(f"vlan {self.management_vlan}")
        self.running.set(f"interface {self.uplink}").set("switchport mode trunk")
        self.running.set(f"interface Vlan{self.management_vlan}").set(
            f"ip address {self.address} 255.255.255.0"
        )

    @property
    def hostname(self) -> str:
        node = next((c for c in self.running.children if c.text.startswith("hostname ")), None)
        return node.text.split()[1] if node else "Switch"

    def physical(self, interface: str) -> bool:
        match = re.fullmatch(r"GigabitEthernet1/0/(\d+)", interface)
        return match is not None and 1 <= int(match[1]) <= PORT_COUNT

    def reachable(self) -> bool:
        svi = self.running.find(f"interface Vlan{self.management_vlan}")
        if (
            svi is None
            or svi.find("shutdown")
            or self.running.find(f"vlan {self.management_vlan}") is None
        ):
            return False
        if not any(c.text.startswith(f"ip address {self.address} ") for c in svi.children):
            return False
        uplink = self.running.find(f"interface {self.uplink}")
        if uplink is None or uplink.find("shutdown"):
            return False
        allowed = next(
            (c.text.split()[-1] for c in uplink.children
             if c.text.startswith("switchport trunk allowed vlan ")), None,
        )  # fmt: skip
        return allowed is None or self.management_vlan in vlan_list(allowed)

    def changed(self) -> None:
        """After every configuration line: the management path may have gone, or come back."""
        if self.reachable() and self.listening is None:
            self.listen()
        elif not self.reachable() and self.listening is not None:
            self.start_revert()  # the session that cut it ends here, in configuration mode
            self.listening.stopListening()
            self.listening = None
            for shell in self.shells:
                shell.terminal.loseConnection()
            self.shells.clear()

    def listen(self) -> None:
        service = SwitchSshService(
            "127.0.0.1", self.port, SimulatedIos(self), {self.username: self.password.encode()}
        )
        self.listening = service.hook_to_reactor(reactor)

    def arm_revert(self, minutes: int) -> None:
        """Keep the configuration as it is now; the timer runs from the end of the session's
        configuration mode, as IOS announces it then ("Rollback will be executed in N min")."""
        self.cancel_revert()
        self.pending_revert = (minutes, copy.deepcopy(self.running))

    def start_revert(self) -> None:
        if self.pending_revert is not None:
            minutes, snapshot = self.pending_revert
            self.pending_revert = None
            self.revert = reactor.callLater(minutes * self.minute_seconds, self.roll_back, snapshot)

    def revert_now(self) -> bool:
        if self.revert is None:
            return False
        snapshot = self.revert.args[0]
        self.cancel_revert()
        self.roll_back(snapshot)
        return True

    def roll_back(self, snapshot: Node) -> None:
        self.revert = None
        self.running = snapshot
        self.changed()

    def cancel_revert(self) -> bool:
        if self.revert is None:
            return False
        self.revert.cancel()
        self.revert = None
        return True


class SimulatedIos(BaseCiscoSwitchCore):
    """fake-switches' switch core, with our processor in place of its object model."""

    def __init__(self, device: Device) -> None:
        super().__init__(SwitchConfiguration("127.0.0.1", device.name, auto_enabled=True))
        self.device = device

    def launch(self, protocol: str, terminal_controller: Any) -> CiscoShellSession:
        if hasattr(terminal_controller, "shell"):
            self.device.shells.append(terminal_controller.shell)
        processor = IosProcessor(self.device)
        logger = logging.getLogger(f"bimkit.lab.simulated_switch.{self.device.name}")
        processor.init(self.switch_configuration, terminal_controller, logger, None)
        return CiscoShellSession(processor)

    @staticmethod
    def get_default_ports() -> list[Any]:
        return []


class IosProcessor(BaseCommandProcessor):
    """The IOS exec and configuration modes, over the device's line-by-line configuration."""

    def __init__(self, device: Device) -> None:
        super().__init__()
        self.device = device
        self.path: list[tuple[Node, int]] | None = None
        """None in exec mode; in configuration mode, the sections entered with the indent
        of the line that opened each (the root first)."""

    def activate_piping(self, piping_command: str) -> bool:
        return True  # `| include` and friends are not simulated: the whole output is shown

    def pipe(self, data: str) -> str:
        return data

    def finish_piping(self) -> None:
        pass

    def get_prompt(self) -> str:
        if self.path is None:
            return f"{self.device.hostname}#"
        mode = "config" if len(self.path) == 1 else "config-if"
        return f"{self.device.hostname}({mode})#"

    def parse_and_execute_command(self, line: str) -> bool:
        if not line.strip():
            return True
        if self.path is None:
            return self.exec_command(line.strip())
        self.config_command(line)
        self.device.changed()
        return True

    def exec_command(self, line: str) -> bool:
        device = self.device
        if line.startswith("terminal "):
            return True
        if line in ("show running-config", "show run"):
            body = "\n".join(device.running.lines())
            self.write_line(f"Building configuration...\n\nCurrent configuration : "
                            f"{len(body)} bytes\n!\n{body}\n!\nend\n")  # fmt: skip
        elif line == "show startup-config":
            self.write_line("\n".join(device.startup) or "startup-config is not present")
        elif line == "show snmp user":
            for user in device.snmp_users:
                self.write_line(f"\nUser name: {user}\nEngine ID: 800000090300\n"
                                "storage-type: nonvolatile        active\n")  # fmt: skip
        elif line.startswith("write") or line == "copy running-config startup-config":
            device.startup = device.running.lines()
            self.write_line("Building configuration...\n[OK]")
        elif line == "show clock":
            self.write_line("*12:00:00.000 TRT Sat Dec 5 2026")
        elif line == "configure confirm":
            if not device.cancel_revert():
                self.write_line("% No Rollback Confirmed Change pending")
        elif line == "configure revert now":
            if not device.revert_now():
                self.write_line("% No Rollback Confirmed Change pending")
        elif match := re.fullmatch(r"conf(?:igure)? t(?:erminal)?(?: revert timer (\d+))?", line):
            if match[1]:
                if device.running.find("archive") is None:
                    self.write_line("% Archive is not configured: configure 'archive path'")
                    return True
                device.arm_revert(int(match[1]))
            self.write_line("Enter configuration commands, one per line.  End with CNTL/Z.")
            self.path = [(device.running, -1)]
        elif line in ("exit", "quit", "logout"):
            self.is_done = True
        else:
            self.write_line(f"% Invalid input detected at '^' marker.\n{line}")
        return True

    def config_command(self, raw: str) -> None:
        """One configuration line; its indent says which open section it belongs to, as in
        the configurations bimkit and hier_config write."""
        assert self.path is not None
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if line == "end" or (line == "exit" and len(self.path) == 1):
            self.path = None
            self.device.start_revert()
            return
        if line == "exit":
            self.path.pop()
            return
        if line.startswith("do "):
            self.exec_command(line[3:])
            return
        while len(self.path) > 1 and self.path[-1][1] >= indent:
            self.path.pop()
        current = self.path[-1][0]
        negated = line.startswith("no ")
        body = line[3:] if negated else line
        if len(self.path) == 1 and body.startswith("snmp-server user "):
            user = body.split()[2]
            self.device.snmp_users = [u for u in self.device.snmp_users if u != user]
            if not negated:
                self.device.snmp_users.append(user)
            return
        if (body.startswith("interface ") and not body.startswith("interface Vlan")
                and not self.device.physical(body.split(maxsplit=1)[1])):  # fmt: skip
            self.write_line(f"% Invalid input detected at '^' marker.\n{line}")
            return
        if negated:
            current.remove(body)
            return
        nested = NESTED_SECTIONS.get(current.text)
        if (len(self.path) == 1 and SECTIONS.match(body)) or (nested and nested.match(body)):
            self.path.append((current.set(body), indent))
        else:
            current.set(body)


def run(devices: list[Device]) -> None:
    for device in devices:
        device.listen()
    print("ready", flush=True)
    reactor.run()


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as file:
        specs: list[dict[str, Any]] = json.load(file)
    run([Device(**spec) for spec in specs])


if __name__ == "__main__":
    main()
