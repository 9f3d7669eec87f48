"""Facts the roles share: tiny, typed, with a pure `process`."""

from __future__ import annotations

import shlex

from pyinfra.api.facts import FactBase


class ContainerType(FactBase[str]):
    """The container technology the host runs in, or "none" on metal and VMs.

    "systemd-nspawn"
    """

    def command(self) -> str:
        return "systemd-detect-virt --container || true"

    def process(self, output: list[str]) -> str:
        return output[0].strip() if output else "none"


class PathsState(FactBase[dict[str, dict[str, str]]]):
    """Type, mode, owner, group and sha256 (files) or `-> target` (links) of each path
    that exists; one round trip.

    {"/etc/hosts": {"type": "f", "mode": "644", "user": "root", "group": "root",
                    "sha256": "9f2c..."}, "/srv/restic": {"type": "d", ...}}
    """

    @staticmethod
    def default() -> dict[str, dict[str, str]]:
        return {}

    def command(self, paths: list[str]) -> str:
        listed = " ".join(shlex.quote(path) for path in paths)
        return (
            f"for p in {listed}; do "
            '[ -e "$p" ] || [ -L "$p" ] || continue; '
            'if [ -L "$p" ]; then s="-> $(readlink "$p")"; '
            'elif [ -f "$p" ]; then s=$(sha256sum < "$p" | cut -d" " -f1); '
            "else s=-; fi; "
            'printf "%s\\t%s\\t%s\\n" "$p" "$(stat -c "%F|%a|%U|%G" "$p")" "$s"; done'
        )

    def process(self, output: list[str]) -> dict[str, dict[str, str]]:
        found = {}
        for line in output:
            path, described, digest = line.split("\t")
            kind, mode, user, group = described.split("|")
            found[path] = {
                "type": "d" if kind == "directory" else ("l" if "link" in kind else "f"),
                "mode": mode,
                "user": user,
                "group": group,
                "sha256": digest,
            }
        return found


class ServicesState(FactBase[dict[str, tuple[str, str]]]):
    """`systemctl is-active` and `is-enabled` of each unit; one round trip.

    {"chrony.service": ("active", "enabled"), "bimkit-drill.timer": ("inactive", "disabled")}
    """

    @staticmethod
    def default() -> dict[str, tuple[str, str]]:
        return {}

    def command(self, units: list[str]) -> str:
        listed = " ".join(shlex.quote(unit) for unit in units)
        return (
            f"for u in {listed}; do "
            'printf "%s %s %s\\n" "$u" "$(systemctl is-active "$u")" "$(systemctl is-enabled "$u" '
            '2>/dev/null || echo missing)"; done'
        )

    def process(self, output: list[str]) -> dict[str, tuple[str, str]]:
        states = {}
        for line in output:
            unit, active, enabled = [*line.split(), "", ""][:3]
            states[unit] = (active, enabled)
        return states


class FilesIn(FactBase[list[str]]):
    """The regular files (`kind` "f") or folders ("d") directly inside some folders;
    none when a folder is missing."""

    default = list

    def command(self, paths: list[str], kind: str = "f") -> str:
        quoted = " ".join(shlex.quote(path) for path in paths)
        return f"find {quoted} -mindepth 1 -maxdepth 1 -type {kind} 2>/dev/null || true"

    def process(self, output: list[str]) -> list[str]:
        return sorted(line for line in output if line.strip())
