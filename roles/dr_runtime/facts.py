"""What version of the host runtime a host runs."""

from __future__ import annotations

import shlex

from pyinfra.api.facts import FactBase

from dr.paths import CURRENT


class InstalledRuntime(FactBase[dict[str, str]]):
    """The installed version and the sha256 of each command; empty before the first install.

    {"version": "0.2.0+3f2a9c1d0b7e", "/usr/local/sbin/bimkit-backup": "9c1e..."}
    """

    @staticmethod
    def default() -> dict[str, str]:
        return {}

    def command(self, commands: list[str]) -> str:
        listed = " ".join(shlex.quote(path) for path in commands)
        return (
            f"cat {CURRENT}/dr/VERSION 2>/dev/null | sed 's/^/version /'; "
            f"sha256sum {listed} 2>/dev/null | awk '{{print $2, $1}}'; true"
        )

    def process(self, output: list[str]) -> dict[str, str]:
        return dict(line.split(" ", 1) for line in output if " " in line)
