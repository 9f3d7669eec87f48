"""Facts about the PBX's voicemail boxes."""

from __future__ import annotations

import shlex

from pyinfra.api.facts import FactBase


class BoxHolders(FactBase[dict[str, str]]):
    """Each box folder in `boxes` and the assignment its holder file names ("" without one).

    {"/var/spool/asterisk/voicemail/default/2100": "person 1001 2100 #1"}
    """

    default = dict

    def command(self, boxes: str, holder_file: str) -> str:
        return (
            f"for box in {shlex.quote(boxes)}/*/; do [ -d \"$box\" ] || continue; "
            f"box=${{box%/}}; printf '%s\\t%s\\n' \"$box\" "
            f"\"$(head -n 1 \"$box\"/{shlex.quote(holder_file)} 2>/dev/null)\"; done"
        )

    def process(self, output: list[str]) -> dict[str, str]:
        found = {}
        for line in output:
            box, _, holder = line.partition("\t")
            found[box] = holder.strip()
        return found


class DeployedHolders(FactBase[dict[int, str]]):
    """Extension -> the assignment its credentials came from at the last deploy (the file
    `path`, `<extension>\t<assignment>` per line; empty before the first).

    {2102: "person 1003 2102 #1"}
    """

    default = dict

    def command(self, path: str) -> str:
        return f"cat {shlex.quote(path)} 2>/dev/null || true"

    def process(self, output: list[str]) -> dict[int, str]:
        found = {}
        for line in output:
            extension, _, credential = line.partition("\t")
            if extension.strip().isdigit():
                found[int(extension)] = credential.strip()
        return found
