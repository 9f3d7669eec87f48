"""The file server's join and its folders' permissions."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.operation import operation
from pyinfra.context import host

from roles.file_server.facts import AccountIds, FolderAcls, MemberOfDomain
from roles.file_server.plan import folder_access, join_command, workgroup
from roles.operations import staged_secret


@operation()
def member_server(data: dict[str, Any], password: str) -> Generator[Any, None, None]:
    """The host is a member server of the realm, with a working machine account.

    + data: the host's inventory data (realm, site, the DC it joins on)
    + password: the domain administrator's (secret `ad_admin_password`), only for the join,
      in a root-only file the join removes; never on a command line or in a log
    """
    if host.get_fact(MemberOfDomain, dc=data["join_dc"]):
        host.noop(f"{host.name} is a member of {data['realm']}")
        return
    staged = yield from staged_secret("ad-join", password)
    yield join_command(host.name, data, staged)


@operation()
def folders_shared(data: dict[str, Any]) -> Generator[Any, None, None]:
    """Every share and unit folder exists, with the ACL its groups ask for.

    + data: the host's inventory data (`file_shares`)

    Only each folder's own ACL (with the defaults that what is made inside inherits) is
    set: files already there keep theirs, as on a Windows server.
    """
    shares = data["file_shares"]
    domain = workgroup(data)
    wanted_groups = sorted(
        {shares["admins"]}
        | {group for folder in shares["folders"] for group in (*folder["change"], *folder["read"])}
    )
    qualified = {group: f"{domain}\\{group}" for group in wanted_groups}
    ids = host.get_fact(AccountIds, database="group", names=sorted(qualified.values()))
    unknown = [name for name in qualified.values() if name not in ids]
    if unknown:
        raise OperationError(
            f"{host.name}: winbind does not know the AD group(s) {', '.join(unknown)} "
            "(the DC's directory step makes them; is the host joined and winbind running?)"
        )
    gids = {group: ids[name] for group, name in qualified.items()}
    access = [
        folder_access(folder, shares["root"], gids[shares["admins"]], gids)
        for folder in shares["folders"]
    ]
    found = host.get_fact(FolderAcls, paths=[item.path for item in access])
    todo = [item for item in access if found.get(item.path) != list(item.entries)]
    if not todo:
        host.noop(f"{len(access)} share folder(s) with their ACLs")
        return
    for item in todo:
        if found.get(item.path) is None:
            yield StringCommand("install", "-d", "-m", "770", item.path)
        yield StringCommand(*item.setfacl())
