"""Directory as code: what Active Directory should hold, and the steps from what it holds.

Pure. `desired_directory` reads the estate; the DC role reads the current
state from the DC; `plan_directory` compares the two and returns actions
that the role applies (and that `--dry` lists).

Scope: bimkit manages only what lives under its own OUs (departments,
groups, leavers). Built-in and hand-made accounts elsewhere — Administrator,
krbtgt, service accounts — are never touched. Nobody is ever deleted: a
person removed from the data is disabled, taken out of bimkit's groups and
moved to the leavers OU, because their files and records are handed over first.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bimkit.errors import BimkitError
from bimkit.model.estate import Estate
from bimkit.model.names import managers_group

UNITS_OU = "Birimler"
"""Parent OU of the departments' OUs."""
GROUPS_OU = "Gruplar"
"""OU of the security groups that are not departments."""
LEAVERS_OU = "Ayrilanlar"
"""OU of disabled accounts of people no longer in the data."""
COMPUTERS_OU = "Bilgisayarlar"
"""Parent OU of the sites' OUs, where each workstation's computer account lives."""


def computer_ou(realm: str, site: str) -> str:
    """The OU a workstation at `site` joins into."""
    return f"OU={site},OU={COMPUTERS_OU},{base_dn(realm)}"


NETBIOS_LENGTH = 15


def computer_name(hostname: str) -> str:
    """A domain member's computer account name: its hostname in capitals when NetBIOS's 15
    characters hold it; a longer one keeps its first 10, then `-` and 4 characters of its
    hash, so that `kultur-merkezi-ws01` and `-ws02` never share one account (cut at 15, both
    would be `KULTUR-MERKEZI-`, and each join would take the other's account)."""
    name = hostname.upper()
    if len(name) <= NETBIOS_LENGTH:
        return name
    digest = base64.b32encode(hashlib.sha256(hostname.lower().encode()).digest()).decode()
    return f"{name[:10]}-{digest[:4]}"


def base_dn(realm: str) -> str:
    """`ad.kayapinar.bel.tr` -> `DC=ad,DC=kayapinar,DC=bel,DC=tr`."""
    return ",".join(f"DC={label}" for label in realm.split("."))


@dataclass(frozen=True)
class User:
    """An account as bimkit wants it (desired) or as the DC has it (current)."""

    username: str
    ou: str
    """DN of the OU the account lives in."""
    enabled: bool
    attributes: Mapping[str, str] = field(default_factory=dict)
    """LDAP attributes bimkit owns: givenName, sn, displayName, mail, department, ..."""
    recorded: bool = True
    """Desired only: the username is in `directory/usernames.yaml` (never created otherwise)."""
    former_usernames: tuple[str, ...] = ()
    """Desired only: names this person gave up by a rename; their account may still carry one."""

    @property
    def person_id(self) -> str | None:
        """The personnel id (employeeID) that says whose account this is."""
        return self.attributes.get("employeeID")


@dataclass(frozen=True)
class Group:
    name: str
    ou: str
    description: str
    members: frozenset[str]
    """Usernames."""


@dataclass(frozen=True)
class Directory:
    base: str
    ous: tuple[str, ...]
    """OU DNs, parents before children."""
    groups: Mapping[str, Group]
    users: Mapping[str, User]

    def manages(self, dn: str) -> bool:
        """True for objects under bimkit's own OUs."""
        return any(dn.endswith(f"OU={ou},{self.base}") for ou in (UNITS_OU, GROUPS_OU, LEAVERS_OU))


def desired_directory(estate: Estate) -> Directory:
    """The OUs, groups and accounts the estate's directory data asks for."""
    base = base_dn(estate.config.realm)

    def department_ou(department_id: str) -> str:
        path = estate.department_path(department_id)
        return ",".join([*(f"OU={d.id}" for d in reversed(path)), f"OU={UNITS_OU}", base])

    ous = [f"OU={UNITS_OU},{base}", f"OU={GROUPS_OU},{base}", f"OU={LEAVERS_OU},{base}"]
    ous += sorted((department_ou(d) for d in estate.departments), key=lambda dn: dn.count(","))
    ous += [f"OU={COMPUTERS_OU},{base}"]
    ous += [computer_ou(estate.config.realm, site) for site in sorted(estate.sites)]

    users = {}
    members: dict[str, set[str]] = {d: set() for d in estate.departments}
    members.update({g: set() for g in estate.groups})
    for member in estate.members:
        person = member.person
        department = estate.departments[person.department]
        attributes = {
            "givenName": person.given_name,
            "sn": person.family_name,
            "displayName": member.display_name,
            "mail": member.email,
            "department": department.name,
            "employeeID": person.id,
        }
        if person.title:
            attributes["title"] = person.title
        if person.extension is not None:
            attributes["telephoneNumber"] = str(person.extension)
        users[member.username] = User(
            username=member.username,
            ou=department_ou(person.department),
            enabled=person.active,
            attributes=attributes,
            recorded=person.id not in estate.new_usernames,
            former_usernames=tuple(
                sorted(
                    name for name, owner in estate.retired_usernames.items() if owner == person.id
                )
            ),
        )
        for department_id in (d.id for d in estate.department_path(person.department)):
            members[department_id].add(member.username)
        for group in person.groups:
            members[group].add(member.username)

    groups = {
        d.id: Group(d.id, department_ou(d.id), d.name, frozenset(members[d.id]))
        for d in estate.departments.values()
    }
    usernames = {member.person.id: member.username for member in estate.members}
    for department in estate.departments.values():
        if department.parent is None and estate.units_of(department.id):
            name = managers_group(department.id)
            groups[name] = Group(
                name, department_ou(department.id), f"{department.name}: yöneticiler",
                frozenset(usernames[p] for p in department.managers if p in usernames),
            )  # fmt: skip
    groups.update(
        {
            g.name: Group(
                g.name, f"OU={GROUPS_OU},{base}", g.description, frozenset(members[g.name])
            )
            for g in estate.groups.values()
        }
    )
    return Directory(base=base, ous=tuple(ous), groups=groups, users=users)


class Step(StrEnum):
    create_ou = "create OU"
    create_group = "create group"
    create_user = "create user"
    rename_user = "rename user"
    update_user = "update user"
    move_user = "move user"
    enable_user = "enable user"
    disable_user = "disable user"
    add_member = "add member"
    remove_member = "remove member"


@dataclass(frozen=True)
class Action:
    step: Step
    target: str
    """The OU DN, group name or username acted on (after a rename: the new username)."""
    details: tuple[tuple[str, str], ...] = ()
    """What changes: attribute -> new value, `ou` -> new OU, `member` -> username,
    `username` -> new name and `alias` -> the old mail address kept (rename)."""

    def __str__(self) -> str:
        extra = ", ".join(f"{key}={value}" for key, value in self.details)
        return f"{self.step} {self.target}" + (f" ({extra})" if extra else "")


class DirectoryRefused(BimkitError):
    """Applying the data would create an unrecorded username or give an account to
    someone else; nothing is changed. `reasons` lists every case."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(
            "directory: refused, nothing was changed on the DC:\n"
            + "\n".join(f"  {reason}" for reason in reasons)
        )


def plan_directory(desired: Directory, current: Directory) -> list[Action]:
    """The actions that turn `current` into `desired`, in an order that can be applied.

    An account belongs to one person for life: it is found by its personnel
    id (employeeID) first and by username only when no account carries the
    id, and it is never given to another person. A username changes only
    when the person gave up the old one by a rename (`former_usernames`).
    Attributes bimkit does not own are left alone; so are accounts outside
    its OUs. DirectoryRefused, before any action, when the data would create
    an unrecorded username or hand an account over.
    """
    owned = _accounts_by_person(current)
    refusals: list[str] = []
    unrecorded: list[str] = []
    actions = [Action(Step.create_ou, ou) for ou in desired.ous if ou not in current.ous]
    actions += [
        Action(Step.create_group, name, (("ou", group.ou), ("description", group.description)))
        for name, group in desired.groups.items()
        if name not in current.groups
    ]
    renamed: dict[str, str] = {}
    kept: set[str] = set()
    for username, want in sorted(desired.users.items()):
        person = want.person_id
        have = owned.get(person) if person else None
        if have is None:
            holder = current.users.get(username)
            if holder is not None:
                refusals.append(_taken(username, want, holder, desired))
            elif not want.recorded:
                unrecorded.append(f"{want.attributes.get('displayName', username)} ({person})")
            else:
                actions.append(Action(Step.create_user, username, _creation(want)))
            continue
        kept.add(have.username)
        if have.username != username:
            holder = current.users.get(username)
            if not want.recorded:
                unrecorded.append(f"{want.attributes.get('displayName', username)} ({person})")
                continue
            if holder is not None:
                refusals.append(_taken(username, want, holder, desired))
                continue
            if have.username not in want.former_usernames:
                refusals.append(
                    f"the account of {person} is `{have.username}` but the data names it "
                    f"`{username}`, and `{have.username}` is not retired; rename with "
                    f"`bimkit usernames rename {person} {username}`"
                )
                continue
            renamed[have.username] = username
            alias = have.attributes.get("mail")
            details = (("username", username),) + ((("alias", alias),) if alias else ())
            actions.append(Action(Step.rename_user, have.username, details))
        actions += _changes(username, want, have)
    if unrecorded:
        refusals.append(
            "usernames not recorded in directory/usernames.yaml for "
            + ", ".join(unrecorded)
            + "; run `bimkit usernames --record` and deploy again"
        )
    if refusals:
        raise DirectoryRefused(refusals)

    leavers = f"OU={LEAVERS_OU},{desired.base}"
    gone = sorted(
        username
        for username, have in current.users.items()
        if username not in kept and username not in desired.users and current.manages(have.ou)
    )
    for username in gone:
        have = current.users[username]
        if have.enabled:
            actions.append(Action(Step.disable_user, username))
        if have.ou != leavers:
            actions.append(Action(Step.move_user, username, (("ou", leavers),)))
    for name, group in sorted(desired.groups.items()):
        had = current.groups[name].members if name in current.groups else frozenset()
        had = frozenset(renamed.get(member, member) for member in had)
        actions += [
            Action(Step.add_member, name, (("member", user),))
            for user in sorted(group.members - had)
        ]
        actions += [
            Action(Step.remove_member, name, (("member", user),))
            for user in sorted(had - group.members)
        ]
    return actions


def _accounts_by_person(current: Directory) -> dict[str, User]:
    """Managed accounts by personnel id; two accounts of one person are refused."""
    owned: dict[str, User] = {}
    doubles = []
    for user in sorted(current.users.values(), key=lambda u: u.username):
        person = user.person_id
        if not person or not current.manages(user.ou):
            continue
        if person in owned:
            doubles.append(
                f"`{owned[person].username}` and `{user.username}` both carry "
                f"employeeID {person}; keep one and clear the other's by hand"
            )
        owned[person] = user
    if doubles:
        raise DirectoryRefused(doubles)
    return owned


def _taken(username: str, want: User, holder: User, desired: Directory) -> str:
    """Why `username` cannot become `want`'s account: another one already has the name."""
    person = want.person_id
    if holder.person_id:
        return (
            f"`{username}` is the account of {holder.person_id}, not of {person} "
            f"({want.attributes.get('displayName', '')}); an account never changes hands. "
            f"Record the existing names in directory/usernames.yaml "
            f"(`'{holder.person_id}': {username}`) or give {person} another username"
        )
    where = "outside bimkit's OUs" if not desired.manages(holder.ou) else "without an employeeID"
    return (
        f"`{username}` is taken by an account {where} ({holder.ou}); set its employeeID to "
        f"{person} if it is theirs, or give {person} another username"
    )


def _creation(want: User) -> tuple[tuple[str, str], ...]:
    return (
        ("ou", want.ou),
        ("enabled", str(want.enabled).lower()),
        *sorted(want.attributes.items()),
    )


def _changes(username: str, want: User, have: User) -> list[Action]:
    """Attribute, OU and enabled-state changes of one person's existing account."""
    actions = []
    changed = tuple(
        (key, value)
        for key, value in sorted(want.attributes.items())
        if have.attributes.get(key) != value
    )
    if changed:
        actions.append(Action(Step.update_user, username, changed))
    if have.ou != want.ou:
        actions.append(Action(Step.move_user, username, (("ou", want.ou),)))
    if have.enabled != want.enabled:
        actions.append(Action(Step.enable_user if want.enabled else Step.disable_user, username))
    return actions


def directory_state(directory: Directory) -> dict[str, Any]:
    """`directory` as plain JSON values, in the form `bimkit-directory state` prints."""
    return {
        "base": directory.base,
        "ous": list(directory.ous),
        "groups": {
            name: {"ou": g.ou, "description": g.description, "members": sorted(g.members)}
            for name, g in directory.groups.items()
        },
        "users": {
            name: {
                "ou": u.ou,
                "enabled": u.enabled,
                "attributes": dict(u.attributes),
                "recorded": u.recorded,
                "former_usernames": list(u.former_usernames),
            }
            for name, u in directory.users.items()
        },
    }


def directory_from_state(state: Mapping[str, Any]) -> Directory:
    """The Directory in `state` (from `directory_state` or `bimkit-directory state`)."""
    return Directory(
        base=state["base"],
        ous=tuple(state["ous"]),
        groups={
            name: Group(name, group["ou"], group["description"], frozenset(group["members"]))
            for name, group in state["groups"].items()
        },
        users={
            name: User(
                name,
                user["ou"],
                user["enabled"],
                dict(user["attributes"]),
                recorded=user.get("recorded", True),
                former_usernames=tuple(user.get("former_usernames", ())),
            )
            for name, user in state["users"].items()
        },
    )


def empty_directory(realm: str) -> Directory:
    """A domain not provisioned yet: nothing bimkit manages exists."""
    return Directory(base=base_dn(realm), ous=(), groups={}, users={})


def actions_json(actions: list[Action]) -> str:
    """What `bimkit-directory apply` reads on the DC."""
    return json.dumps(
        [{"step": str(a.step), "target": a.target, "details": a.details} for a in actions],
        ensure_ascii=False,
        indent=1,
    )
