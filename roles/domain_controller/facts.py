"""Facts about Samba AD on a host."""

from __future__ import annotations

from pyinfra.api.facts import FactBase

from roles.domain_controller.plan import SAM_LDB


class SambaProvisioned(FactBase[bool]):
    """True when the host already holds a Samba AD domain database.

    True
    """

    def command(self) -> str:
        return f"test -e {SAM_LDB} && echo yes || echo no"

    def process(self, output: list[str]) -> bool:
        return output == ["yes"]
