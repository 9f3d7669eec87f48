"""Operations of the DR repository role."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import FileContents

from roles.dr_repository.plan import htpasswd
from roles.managed import ManagedFile
from roles.operations import converging


@operation()
def htpasswd_file(
    path: str, credentials: Mapping[str, str], group: str = "root", then: tuple[str, ...] = ()
) -> Generator[Any, None, None]:
    """An htpasswd file (bcrypt) for `credentials`, rewritten only when a password changed.

    + path: the file, e.g. /etc/restic-rest-server/users.htpasswd
    + credentials: user -> password, from the secrets on the control machine
    + group: the group that may read it (the server's)
    + then: commands after a change (the server's restart)

    Every hash has a random salt, so the host's hashes are read and checked
    with bcrypt: a line that still matches is kept, and a second deploy changes
    nothing. Never shown in a diff (a private `ManagedFile`).

        htpasswd_file(name="rest-server users", path=HTPASSWD,
                      credentials={"dc1": "..."}, group="restic-rest-server")
    """
    current = host.get_fact(FileContents, path=path)
    content = htpasswd(credentials, "\n".join(current or []))
    yield from converging(
        [ManagedFile(path, content, mode="640", group=group, private=True, then=then)]
    )
