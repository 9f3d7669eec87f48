"""Facts about a file server: its domain membership, the AD groups' IDs, its folders' ACLs."""

from __future__ import annotations

import shlex

from pyinfra.api.facts import FactBase


class MemberOfDomain(FactBase[bool]):
    """True when the host's machine account works on the DC `dc` (`net ads testjoin`).

    True
    """

    def command(self, dc: str) -> str:
        return (
            f"command -v net >/dev/null && net ads testjoin -S {shlex.quote(dc)} "
            ">/dev/null 2>&1 && echo yes || echo no"
        )

    def process(self, output: list[str]) -> bool:
        return output == ["yes"]


class AccountIds(FactBase[dict[str, int]]):
    """The id of each named user (`database="passwd"`) or group (`"group"`) that the host
    resolves, through winbind for AD accounts; names it does not know are left out.

    {"KAYAPINAR\\fen-isleri": 201109}
    """

    def command(self, database: str, names: list[str]) -> str:
        return "; ".join(
            f"printf '%s\\t%s\\n' {shlex.quote(name)} \"$(getent {shlex.quote(database)} "
            f'{shlex.quote(name)} | cut -d: -f3)"'
            for name in names
        )

    def process(self, output: list[str]) -> dict[str, int]:
        found = {}
        for line in output:
            name, _, number = line.partition("\t")
            if number.strip().isdigit():
                found[name] = int(number)
        return found


class FilesOwned(FactBase[dict[int, list[int]]]):
    """uid -> [files, bytes] of the regular files under `root` (one pass of `find`).

    {201126: [14, 5242880]}
    """

    def command(self, root: str) -> str:
        return (
            f"find {shlex.quote(root)} -xdev -type f -printf '%U %s\\n' | "
            "awk '{n[$1]++; s[$1]+=$2} END {for (u in n) print u, n[u], s[u]}'"
        )

    def process(self, output: list[str]) -> dict[int, list[int]]:
        found = {}
        for line in output:
            uid, files, size = line.split()
            found[int(uid)] = [int(files), int(size)]
        return found


class FolderAcls(FactBase[dict[str, list[str] | None]]):
    """Each folder's ACL entries as `getfacl -n --omit-header` prints them; None when the
    folder is missing.

    {"/srv/shares/ortak": ["user::rwx", "group::---", "group:200513:rwx", ...]}
    """

    def command(self, paths: list[str]) -> str:
        return "; ".join(
            f"echo '== '{shlex.quote(path)}; getfacl -n --omit-header -p {shlex.quote(path)} "
            "2>/dev/null || echo '!missing'"
            for path in paths
        )

    def process(self, output: list[str]) -> dict[str, list[str] | None]:
        found: dict[str, list[str] | None] = {}
        current = ""
        for line in output:
            if line.startswith("== "):
                current = line[3:]
                found[current] = []
            elif line == "!missing":
                found[current] = None
            elif line.strip() and found.get(current) is not None:
                found[current].append(line.strip())  # type: ignore[union-attr]
        return found


class FolderFilled(FactBase[dict[str, str]]):
    """Each path: `missing`, `empty` (a folder with nothing in it) or `full`.

    {"/srv/shares/home/ayse.kaya": "full", "/srv/shares/home/ayse.demir": "missing"}
    """

    def command(self, paths: list[str]) -> str:
        return "; ".join(
            f"p={shlex.quote(path)}; if [ ! -e \"$p\" ]; then s=missing; "
            "elif [ -d \"$p\" ] && [ -z \"$(ls -A \"$p\")\" ]; then s=empty; else s=full; fi; "
            "printf '%s\\t%s\\n' \"$p\" \"$s\""
            for path in paths
        ) or "true"

    def process(self, output: list[str]) -> dict[str, str]:
        return dict(line.split("\t", 1) for line in output if "\t" in line)
