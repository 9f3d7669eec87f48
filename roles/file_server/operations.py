"""The file server's join and its folders' permissions."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.operation import operation
from pyinfra.context import host

from bimkit.directory import computer_name, computer_ou
from roles.file_server.facts import AccountIds, FolderAcls, FolderFilled, MemberOfDomain
from roles.file_server.plan import folder_access, home_moves, join_argv, workgroup
from roles.join import one_time_join


@operation()
def member_server(data: dict[str, Any]) -> Generator[Any, None, None]:
    """The host is a member server of the realm, with a working machine account.

    + data: the host's inventory data (realm, site, `join_dc_host`: the DC it joins on)

    Joined with a one-time password the primary DC sets for this join alone (roles/join);
    adcli hands the machine password to Samba (`--add-samba-data`).
    """
    if host.get_fact(MemberOfDomain, dc=data["join_dc"]):
        host.noop(f"{host.name} is a member of {data['realm']}")
        return
    yield from one_time_join(
        data["join_dc_host"], computer_name(host.name), computer_ou(data["realm"], data["site"]),
        join_argv(host.name, data), then="systemctl restart winbind smbd",
    )  # fmt: skip


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


@operation()
def homes_follow_renames(data: dict[str, Any]) -> Generator[Any, None, None]:
    """A renamed person's home folder is under their new name, with its files, owner and
    ACL (the account keeps its SID, so its uid).

    + data: the host's inventory data (`file_shares`: `renamed_homes`, `root`, `homes`)
    """
    shares = data["file_shares"]
    homes = f"{shares['root']}/{shares['homes']}"
    renamed = shares["renamed_homes"]
    paths = [f"{homes}/{move[end]}" for move in renamed for end in ("from", "to")]
    found: dict[str, str] = host.get_fact(FolderFilled, paths=paths)
    try:
        commands = home_moves(renamed, homes, found)
    except ValueError as error:
        raise OperationError(f"{host.name}: file server: {error}") from None
    if not commands:
        host.noop(f"{len(renamed)} renamed person(s)' home folders under their names")
        return
    for command in commands:
        yield StringCommand(*command)
