"""Who may sign in where (pure): the staff of the departments a site houses, the data's
additions and narrowings per site and per workstation, and always bim-admins.

sssd enforces it on each workstation (roles/workstation: `ad_access_filter`, which the
AD access provider checks with the account's own state, so a disabled account is refused
once the desk reaches a DC). Department groups hold every person of the department and
of its units directly (bimkit.directory), so a plain `memberOf` test covers units too.
"""

from __future__ import annotations

from bimkit.directory import desired_directory
from bimkit.file_shares import ADMINS
from bimkit.model.estate import Estate, PlacedHost
from bimkit.model.schema import SignInRule


def _apply(groups: set[str], rule: SignInRule | None) -> set[str]:
    if rule is None:
        return groups
    chosen = set(rule.only) if rule.only is not None else groups
    return chosen | set(rule.add)


def sign_in_groups(estate: Estate, host: PlacedHost) -> list[str]:
    """The groups whose members may sign in on workstation `host`."""
    policy = estate.config.workstations.sign_in
    groups = set(estate.sites[host.site].departments)
    groups = _apply(groups, policy.sites.get(host.site))
    groups = _apply(groups, policy.hosts.get(host.name))
    return sorted(groups | {ADMINS})


def access_filter(estate: Estate, host: PlacedHost) -> str:
    """sssd's `ad_access_filter` for `host`: membership of any of its sign-in groups."""
    directory = desired_directory(estate)
    terms = [
        f"(memberOf=CN={name},{directory.groups[name].ou})"
        for name in sign_in_groups(estate, host)
        if name in directory.groups
    ]
    return f"(|{''.join(terms)})"


def admin_keys(estate: Estate) -> dict[str, list[str]]:
    """username -> SSH public keys of each active bim-admins member who has any: how admins
    reach a workstation, which takes no password over SSH."""
    return {
        member.username: list(member.person.ssh_keys)
        for member in estate.members
        if member.person.active and ADMINS in member.person.groups and member.person.ssh_keys
    }
