"""Where the lab keeps its files, and what `lab up` recorded about what it started."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bimkit.files import write_atomically


def lab_enabled() -> bool:
    """BIMKIT_LAB: commands and deploys work on the lab's machines (read here only)."""
    return bool(os.environ.get("BIMKIT_LAB"))


@dataclass(frozen=True)
class LabPaths:
    """The lab's folders: machines and state under `root`, images and packages under `cache`."""

    root: Path = Path("/var/lib/bimkit/lab")
    cache: Path = Path("/var/cache/bimkit")

    @classmethod
    def from_env(cls) -> LabPaths:
        return cls(
            root=Path(os.environ.get("BIMKIT_LAB_DIR") or cls.root),
            cache=Path(os.environ.get("BIMKIT_CACHE_DIR") or cls.cache),
        )

    @property
    def machines(self) -> Path:
        return self.root / "machines"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def ssh_key(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "ssh" / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh" / "config"

    @property
    def simulated_switches(self) -> Path:
        """Where the simulated switches that run now listen (bimkit.lab.simulated_switch)."""
        return self.root / "simulated-switches.json"

    @property
    def secrets(self) -> Path:
        """Secrets the lab generated for itself (never real ones)."""
        return self.root / "secrets"

    @property
    def apt_proxy(self) -> Path:
        return self.root / "apt-cacher-ng"


@dataclass
class LabMachineState:
    site: str
    address: str
    gateway: str
    nested: bool


@dataclass
class LabState:
    """Written by `lab up` once its machines run; read by status, ssh, inventory and down."""

    supernet: str
    image: str
    apt_proxy_port: int
    machines: dict[str, LabMachineState] = field(default_factory=dict)
    apt_proxy_bind: list[str] = field(default_factory=list)
    """Bridge addresses the apt proxy listens on: every site's ever brought up, also from
    another data folder (a new site tried in a copy), so that `up` never drops one."""

    def save(self, paths: LabPaths) -> None:
        write_atomically(paths.state_file, json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def load(cls, paths: LabPaths) -> LabState | None:
        try:
            raw = json.loads(paths.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        machines = {name: LabMachineState(**m) for name, m in raw.pop("machines").items()}
        return cls(machines=machines, **raw)
