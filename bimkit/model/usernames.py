"""Who gets which username, so that nobody's username ever changes.

A username derived only from the current data would move when a namesake
joins or leaves (`mehmet.yilmaz2` becoming `mehmet.yilmaz`). So usernames,
once handed out, are recorded by stable person id in `directory/usernames.yaml`
and looked up there; only people not yet recorded get a new one, in order of
their id, never of their position in a file. Recorded names of people who have
left stay reserved: their disabled accounts still exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bimkit.model.names import username_base, with_suffix
from bimkit.model.schema import Person


@dataclass(frozen=True)
class UsernameAssignment:
    """The outcome: every person's username, and which of them are new."""

    by_person: dict[str, str]
    """Person id -> username, for every person in the data."""
    new: dict[str, str]
    """The part of `by_person` not yet in the registry: to be recorded."""


def assign_usernames(people: Iterable[Person], registry: Mapping[str, str]) -> UsernameAssignment:
    """Usernames for `people`, keeping every one the registry already holds.

    + people: the directory's people, in any order
    + registry: person id -> username handed out earlier (leavers included)

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

    taken = set(registry.values()) | set(by_person.values())
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
