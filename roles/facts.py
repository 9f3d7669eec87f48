"""Facts the roles share: tiny, typed, with a pure `process`."""

from __future__ import annotations

from pyinfra.api.facts import FactBase


class ContainerType(FactBase[str]):
    """The container technology the host runs in, or "none" on metal and VMs.

    "systemd-nspawn"
    """

    def command(self) -> str:
        return "systemd-detect-virt --container || true"

    def process(self, output: list[str]) -> str:
        return output[0].strip() if output else "none"
