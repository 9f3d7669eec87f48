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
        # Only real folders named by a number (a link is not a box); the holder file read
        # as the asterisk user, who owns the boxes, so a link there shows root nothing.
        return (
            f"find {shlex.quote(boxes)} -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9]+' "
            f"2>/dev/null | sort | while read -r box; do printf '%s\\t%s\\n' \"$box\" "
            f"\"$(runuser -u asterisk -- head -n 1 \"$box\"/{shlex.quote(holder_file)} "
            "2>/dev/null)\"; done"
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
