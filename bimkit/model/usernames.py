"""Who gets which username, so that nobody's username ever changes.

A username derived only from the current data would move when a namesake
joins or leaves (`mehmet.yilmaz2` becoming `mehmet.yilmaz`). So usernames,
once handed out, are recorded by stable person id in `directory/usernames.yaml`
and looked up there; only people not yet recorded get a new one, in order of
their id, never of their position in a file. Recorded names of people who have
left stay reserved: their disabled accounts still exist. So do names given up
by a rename (a surname changed on marriage): mail to them still arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml

from bimkit.errors import BimkitError
from bimkit.model.names import USERNAME_PATTERN, username_base, with_suffix
from bimkit.model.schema import Person


@dataclass(frozen=True)
class UsernameAssignment:
    """The outcome: every person's username, and which of them are new."""

    by_person: dict[str, str]
    """Person id -> username, for every person in the data."""
    new: dict[str, str]
    """The part of `by_person` not yet in the registry: to be recorded."""


def assign_usernames(
    people: Iterable[Person], registry: Mapping[str, str], retired: Iterable[str] = ()
) -> UsernameAssignment:
    """Usernames for `people`, keeping every one the registry already holds.

    + people: the directory's people, in any order
    + registry: person id -> username handed out earlier (leavers included)
    + retired: usernames given up by a rename: never handed out again

    A person's explicit `username` wins; else their recorded one; else
    `given.family`, with 2, 3, ... appended while that is taken.

        >>> a = Person(id="7", given_name="Mehmet", family_name="Yılmaz", department="kalem")
        >>> assign_usernames([a], {}).by_person
        {'7': 'mehmet.yilmaz'}
    """
    people = list(people)
    by_person: dict[str, str] = {}
    for person in people:
        if person.username is not None:
            by_person[person.id] = person.username
        elif person.id in registry:
            by_person[person.id] = registry[person.id]

    taken = set(registry.values()) | set(by_person.values()) | set(retired)
    new: dict[str, str] = {}
    for person in sorted((p for p in people if p.id not in by_person), key=_id_order):
        base = username_base(person.given_name, person.family_name)
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = with_suffix(base, number)
        taken.add(candidate)
        new[person.id] = candidate
        by_person[person.id] = candidate
    for person in people:
        if person.username is not None and registry.get(person.id) != person.username:
            new[person.id] = person.username
    return UsernameAssignment(by_person=by_person, new=new)


def _id_order(person: Person) -> tuple[int, str]:
    # Numeric ids sort as numbers ("9" before "10"), so the oldest record wins a name.
    return (int(person.id), "") if person.id.isdigit() else (2**63, person.id)


@dataclass(frozen=True)
class Registry:
    """`directory/usernames.yaml`: the names handed out, and those given up by a rename."""

    usernames: dict[str, str]
    """Person id -> current username (leavers included)."""
    retired: dict[str, str]
    """Username -> person id: given up, never handed out again."""

    def recording(self, new: Mapping[str, str]) -> Registry:
        """The registry with `new` (person id -> username) recorded; a name it replaces
        (an explicit `username` in people.yaml) is retired, as a rename would do."""
        retired = dict(self.retired)
        for person_id, name in new.items():
            old = self.usernames.get(person_id)
            if old is not None and old != name:
                retired[old] = person_id
        return Registry({**self.usernames, **new}, retired)

    def renaming(self, person_id: str, new_name: str, people: Iterable[Person]) -> Registry:
        """The registry after person `person_id` changes username to `new_name`.

        BimkitError, naming the rule, when the person has no recorded name, sets one
        explicitly in people.yaml, or `new_name` is invalid, taken or retired.
        """
        old = self.usernames.get(person_id)
        if old is None:
            raise BimkitError(
                f"usernames rename: person {person_id} has no recorded username in "
                "directory/usernames.yaml; run `bimkit usernames --record` first"
            )
        if not USERNAME_PATTERN.fullmatch(new_name):
            raise BimkitError(
                f"usernames rename: `{new_name}` is not a username (lower-case ASCII letters, "
                "digits, `.` and `-`, at most 20 characters)"
            )
        if new_name == old:
            raise BimkitError(f"usernames rename: {person_id} is already `{old}`")
        holders = {name: owner for owner, name in self.usernames.items()}
        explicit = {p.username: p.id for p in people if p.username is not None}
        if new_name in self.retired:
            raise BimkitError(
                f"usernames rename: `{new_name}` was retired (id {self.retired[new_name]}); "
                "a username is never used again"
            )
        owner = holders.get(new_name) or explicit.get(new_name)
        if owner is not None:
            raise BimkitError(f"usernames rename: `{new_name}` belongs to {owner}")
        if any(p.id == person_id and p.username is not None for p in people):
            raise BimkitError(
                f"usernames rename: directory/people.yaml sets `username` for {person_id}; "
                "remove it there first, so that one place names the account"
            )
        return Registry({**self.usernames, person_id: new_name}, {**self.retired, old: person_id})

    def text(self) -> str:
        """The file's text, oldest ids first."""
        ordered = dict(sorted(self.usernames.items(), key=lambda item: (len(item[0]), item[0])))
        document: dict[str, object] = {"usernames": ordered}
        if self.retired:
            document["retired"] = dict(sorted(self.retired.items()))
        header = (
            "# Usernames handed out, by person id. Written by `bimkit usernames --record`\n"
            "# and `bimkit usernames rename`. Entries stay after a person leaves, and a name\n"
            "# given up by a rename stays under `retired`: a username is never given to\n"
            "# anyone else.\n"
        )
        return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
