"""An account belongs to one person for life, whatever the admins do to the data.

A hypothesis state machine edits the people data in every way admins do
(namesakes inserted anywhere, reorders, removals, re-adds, renames, with and
without `bimkit usernames --record`) and deploys between edits to a
simulated DC that applies actions as `bimkit-directory apply` does: an
account is an object with a SID that keeps its links when renamed.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bimkit.directory import (
    Action,
    Directory,
    DirectoryRefused,
    Group,
    Step,
    User,
    desired_directory,
    plan_directory,
)
from bimkit.errors import BimkitError
from bimkit.model.estate import Estate, Member, Source
from bimkit.model.load import load_estate
from bimkit.model.names import username_base
from bimkit.model.schema import Person
from bimkit.model.usernames import Registry, assign_usernames
from tests.conftest import REPO

BASE_ESTATE = load_estate(REPO)
GIVEN = ["Mehmet", "Ayşe", "İbrahim Halil"]
FAMILY = ["Yılmaz", "Çiçek", "Öztürk", "Kaya"]


@dataclass
class Account:
    sid: int
    user: User
    owner: str
    """employeeID when created: it must never change."""


@dataclass
class SimulatedDC:
    """Objects with SIDs; group members are SIDs, as DN links follow a rename."""

    base: str
    ous: list[str] = field(default_factory=list)
    accounts: dict[int, Account] = field(default_factory=dict)
    groups: dict[str, tuple[Group, set[int]]] = field(default_factory=dict)
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def sid_of(self, username: str) -> int:
        (sid,) = [s for s, a in self.accounts.items() if a.user.username == username]
        return sid

    def state(self) -> Directory:
        names = {sid: account.user.username for sid, account in self.accounts.items()}
        return Directory(
            base=self.base,
            ous=tuple(self.ous),
            groups={
                name: dataclasses.replace(group, members=frozenset(names[s] for s in members))
                for name, (group, members) in self.groups.items()
            },
            users={account.user.username: account.user for account in self.accounts.values()},
        )

    def apply(self, actions: list[Action]) -> None:
        for action in actions:
            details = dict(action.details)
            if action.step is Step.create_ou:
                self.ous.append(action.target)
            elif action.step is Step.create_group:
                group = Group(action.target, details["ou"], details["description"], frozenset())
                self.groups[action.target] = (group, set())
            elif action.step is Step.create_user:
                assert action.target not in self.state().users, "a username exists twice"
                ou, enabled = details.pop("ou"), details.pop("enabled") == "true"
                user = User(action.target, ou, enabled, details)
                sid = next(self.sids)
                self.accounts[sid] = Account(sid, user, details["employeeID"])
            else:
                self._change(action, details)

    def _change(self, action: Action, details: dict[str, str]) -> None:
        if action.step in (Step.add_member, Step.remove_member):
            members = self.groups[action.target][1]
            sid = self.sid_of(details["member"])
            members.add(sid) if action.step is Step.add_member else members.discard(sid)
            return
        account = self.accounts[self.sid_of(action.target)]
        user = account.user
        if action.step is Step.rename_user:
            user = dataclasses.replace(user, username=details["username"])
        elif action.step is Step.update_user:
            user = dataclasses.replace(user, attributes={**user.attributes, **details})
        elif action.step is Step.move_user:
            user = dataclasses.replace(user, ou=details["ou"])
        else:
            user = dataclasses.replace(user, enabled=action.step is Step.enable_user)
        account.user = user


def person(person_id: int, given: str, family: str) -> Person:
    return Person(id=str(person_id), given_name=given, family_name=family, department="yazilim")


def estate_of(people: list[Person], registry: Registry) -> Estate:
    assignment = assign_usernames(people, registry.usernames, registry.retired)
    members = [
        Member(p, assignment.by_person[p.id], f"{assignment.by_person[p.id]}@x.tr", Source("", ""))
        for p in people
    ]
    return dataclasses.replace(
        BASE_ESTATE,
        members=members,
        recorded_usernames=registry.usernames,
        retired_usernames=registry.retired,
        new_usernames=assignment.new,
    )


class Admins(RuleBasedStateMachine):
    """What admins do to people.yaml and usernames.yaml, and deploys in between."""

    always_record = False

    def __init__(self) -> None:
        super().__init__()
        self.people: list[Person] = []
        self.removed: list[Person] = []
        self.registry = Registry({}, {})
        self.dc = SimulatedDC(base=desired_directory(estate_of([], self.registry)).base)
        self.ids = itertools.count(500, -7)  # newcomers may get lower ids than staff
        self.deployed = 0

    @rule(given=st.sampled_from(GIVEN), family=st.sampled_from(FAMILY), where=st.integers(0, 20))
    def hire(self, given: str, family: str, where: int) -> None:
        """A newcomer, often a namesake, inserted anywhere in the file."""
        self.people.insert(where % (len(self.people) + 1), person(next(self.ids), given, family))

    @rule(data=st.randoms(use_true_random=False))
    def reorder(self, data: st.SearchStrategy[object]) -> None:
        data.shuffle(self.people)  # type: ignore[attr-defined]

    @precondition(lambda self: self.people)
    @rule(which=st.integers(0, 100))
    def remove(self, which: int) -> None:
        self.removed.append(self.people.pop(which % len(self.people)))

    @precondition(lambda self: self.removed)
    @rule(which=st.integers(0, 100), where=st.integers(0, 20))
    def re_add(self, which: int, where: int) -> None:
        back = self.removed.pop(which % len(self.removed))
        self.people.insert(where % (len(self.people) + 1), back)

    @precondition(lambda self: self.people)
    @rule(which=st.integers(0, 100), family=st.sampled_from(FAMILY))
    def marry(self, which: int, family: str) -> None:
        """A surname changes; the admin runs `bimkit usernames rename` when they can."""
        index = which % len(self.people)
        married = self.people[index].model_copy(update={"family_name": family})
        self.people[index] = married
        recorded = self.registry.usernames.get(married.id)
        if recorded is None:
            return
        for number in range(1, 50):
            candidate = f"{recorded.split('.')[0]}.{username_base('a', family)[2:5]}{number}"
            try:
                self.registry = self.registry.renaming(married.id, candidate, self.people)
                return
            except BimkitError:
                continue
        raise AssertionError(f"no new username found for {married.id}")

    @rule()
    def record(self) -> None:
        assignment = assign_usernames(self.people, self.registry.usernames, self.registry.retired)
        self.registry = self.registry.recording(assignment.new)

    @rule()
    def deploy(self) -> None:
        if self.always_record:
            self.record()
        desired = desired_directory(estate_of(self.people, self.registry))
        try:
            actions = plan_directory(desired, self.dc.state())
        except DirectoryRefused:
            assert not self.always_record, "recorded data was refused"
            event("deploy refused")
            return
        event("deploy applied changes" if actions else "deploy applied nothing")
        event(f"renames: {sum(a.step is Step.rename_user for a in actions)}")
        self.dc.apply(actions)
        self.deployed += 1
        after = self.dc.state()
        for username, want in desired.users.items():
            owned = [u for u in after.users.values() if u.person_id == want.person_id]
            assert [u.username for u in owned] == [username]
            assert owned[0].enabled == want.enabled
        assert plan_directory(desired, after) == [], "a second deploy would change something"

    @invariant()
    def no_account_ever_changes_owner(self) -> None:
        for account in self.dc.accounts.values():
            assert account.user.person_id == account.owner

    @invariant()
    def every_person_has_at_most_one_account(self) -> None:
        owners = [account.owner for account in self.dc.accounts.values()]
        assert len(owners) == len(set(owners))

    @invariant()
    def no_username_is_held_twice(self) -> None:
        names = [account.user.username for account in self.dc.accounts.values()]
        assert len(names) == len(set(names))


class AdminsWhoAlwaysRecord(Admins):
    """With `--record` before each deploy, no deploy is ever refused."""

    always_record = True


TestAccountsBelongToPeopleForLife = Admins.TestCase
TestAccountsBelongToPeopleForLife.settings = settings(
    max_examples=150, stateful_step_count=25, deadline=None
)
TestRecordedDataIsNeverRefused = AdminsWhoAlwaysRecord.TestCase
TestRecordedDataIsNeverRefused.settings = settings(
    max_examples=150, stateful_step_count=25, deadline=None
)
