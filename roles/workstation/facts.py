"""Facts about a workstation's domain membership."""

from __future__ import annotations

import shlex

from pyinfra.api.facts import FactBase


class DomainJoined(FactBase[bool]):
    """True when the host's computer account in `realm` works (`adcli testjoin` on the DC
    `dc`, where the host joined): false when it never joined, left, or its account was
    deleted in AD.

    True
    """

    def command(self, realm: str, dc: str) -> str:
        return (
            f"command -v adcli >/dev/null && adcli testjoin --domain={shlex.quote(realm)} "
            f"--domain-controller={shlex.quote(dc)} >/dev/null 2>&1 && echo yes || echo no"
        )

    def process(self, output: list[str]) -> bool:
        return output == ["yes"]
