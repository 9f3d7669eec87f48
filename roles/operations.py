"""Operations the roles share."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Generator
from io import StringIO
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import Directory, File, Sha256File

from bimkit.secrets import SecretSpec, load_secrets


@operation()
def secret_file(secret: str, path: str) -> Generator[Any, None, None]:
    """Put the value of secret `secret` into `path` (mode 0600, its folder 0700).

    + secret: name of the secret (see `bimkit secrets check`)
    + path: where the host keeps it, e.g. /etc/bimkit/ad_admin_password

    Unlike `files.put`, the value never appears in a diff, an argument or a
    log: it is read on the control machine here, compared by hash, and
    uploaded as `private_file` does. A missing folder is made 0700.

        secret_file(name="AD admin password", secret="ad_admin_password",
                    path="/etc/bimkit/ad_admin_password")
    """
    value = load_secrets([SecretSpec(secret, "", host.name)]).get(secret) + "\n"
    folder = posixpath.dirname(path)
    if host.get_fact(Directory, path=folder) is None:
        yield StringCommand("install", "-d", "-m", "700", "-o", "root", "-g", "root", folder)
    yield from private_upload(path, value, "root", "600", f"secret `{secret}` is in place")


@operation()
def once(marker: str, commands: list[str]) -> Generator[Any, None, None]:
    """Run `commands` until they have succeeded once, then never again.

    + marker: file created after the commands succeed; while it exists, nothing runs
    + commands: shell commands, run in order; the first failure stops them

    For one-time steps that a fact cannot see, such as seeding a file that
    later takes on a life of its own.

        once(name="idmap copied from the primary", marker="/var/lib/bimkit/idmap-imported",
             commands=["..."])
    """
    if host.get_fact(File, path=marker):
        host.noop(f"done once already ({marker})")
        return
    yield from commands
    yield StringCommand("install", "-D", "-m", "644", "/dev/null", marker)


PRIVATE_STAGING = "/etc/bimkit/.staging"
"""Root-only folder where private files are prepared before they are moved into place."""


@operation()
def private_file(
    path: str, content: str, group: str = "root", mode: str = "640"
) -> Generator[Any, None, None]:
    """Put `content` into `path`, readable by root and `group` only; never shown in a diff.

    + path: the file, e.g. a TLS key; its folder is left as it is
    + content: derived from secrets on the control machine (e.g. a key or htpasswd)
    + group: the group that may read it (a service's)
    + mode: its mode, group-readable at most

    The file is uploaded into a root-only staging folder, given its owner and
    mode there, then moved into place, so it is never readable by others,
    not even for a moment.
    """
    yield from private_upload(path, content, group, mode, f"{path} is in place")


def private_upload(
    path: str, content: str, group: str, mode: str, in_place: str
) -> Generator[Any, None, None]:
    """Upload into a root-only staging folder, set owner and mode there, move into place.

    For operations that write private files; `in_place` is the no-op message.
    """
    wanted = hashlib.sha256(content.encode()).hexdigest()
    current = host.get_fact(File, path=path)
    if (
        current
        and host.get_fact(Sha256File, path=path) == wanted
        and current["group"] == group
        and f"{current['mode']}" == mode.lstrip("0")
    ):
        host.noop(in_place)
        return
    staged = posixpath.join(PRIVATE_STAGING, posixpath.basename(path))
    yield StringCommand("install", "-d", "-m", "700", "-o", "root", "-g", "root", PRIVATE_STAGING)
    yield FileUploadCommand(StringIO(content), staged)
    yield StringCommand("chown", f"root:{group}", staged)
    yield StringCommand("chmod", mode, staged)
    yield StringCommand("mv", "-f", staged, path)
