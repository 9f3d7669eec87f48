"""Directory as code: what to create, change, disable, given the data and the DC's state."""

from __future__ import annotations

import dataclasses

import pytest

from bimkit.directory import (
    Action,
    Directory,
    DirectoryRefused,
    Step,
    base_dn,
    desired_directory,
    plan_directory,
)
from bimkit.model.load import load_estate
from tests.conftest import REPO, EstateData
from tests.unit.test_validation import setter

BASE = "DC=ad,DC=kayapinar,DC=bel,DC=tr"
DESIRED = desired_directory(load_estate(REPO))
EMPTY = Directory(base=BASE, ous=(), groups={}, users={})


def steps(actions: list[Action], step: Step) -> list[Action]:
    return [action for action in actions if action.step is step]


def test_base_dn_from_realm() -> None:
    assert base_dn("ad.kayapinar.bel.tr") == BASE


def test_department_ous_nest_under_their_mudurluk() -> None:
    assert f"OU=yazilim,OU=bilgi-islem,OU=Birimler,{BASE}" in DESIRED.ous
    index = DESIRED.ous.index
    assert index(f"OU=Birimler,{BASE}") < index(f"OU=bilgi-islem,OU=Birimler,{BASE}")
    assert index(f"OU=bilgi-islem,OU=Birimler,{BASE}") < index(
        f"OU=yazilim,OU=bilgi-islem,OU=Birimler,{BASE}"
    )


def test_user_attributes_keep_turkish_letters() -> None:
    user = DESIRED.users["sukru.caglayan"]
    assert user.attributes["displayName"] == "Şükrü Çağlayan"
    assert user.attributes["department"] == "Bilgi İşlem Müdürlüğü"
    assert user.attributes["mail"] == "sukru.caglayan@kayapinar.bel.tr"
    assert user.attributes["telephoneNumber"] == "2100"
    assert user.ou == f"OU=bilgi-islem,OU=Birimler,{BASE}"


def test_unit_members_also_belong_to_their_mudurluk_group() -> None:
    assert "ayse.cicek" in DESIRED.groups["yazilim"].members
    assert "ayse.cicek" in DESIRED.groups["bilgi-islem"].members
    assert "ayse.cicek" not in DESIRED.groups["zabita"].members
    assert DESIRED.groups["bim-admins"].members >= {"sukru.caglayan", "ibrahimhalil.ozturk"}


def test_an_empty_domain_gets_everything_created_parents_first() -> None:
    actions = plan_directory(DESIRED, EMPTY)
    assert [a.target for a in steps(actions, Step.create_ou)] == list(DESIRED.ous)
    assert len(steps(actions, Step.create_user)) == 40
    assert actions.index(steps(actions, Step.create_ou)[-1]) < actions.index(
        steps(actions, Step.create_user)[0]
    )
    assert not steps(actions, Step.disable_user)


def test_an_inactive_person_is_created_disabled() -> None:
    (umit,) = [a for a in plan_directory(DESIRED, EMPTY) if a.target == "umit.kurt"]
    assert ("enabled", "false") in umit.details


def test_a_converged_domain_needs_nothing() -> None:
    assert plan_directory(DESIRED, DESIRED) == []


def test_a_changed_extension_is_an_update_of_that_attribute_only(estate_data: EstateData) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 4, "extension", value=2199))
    actions = plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)
    assert actions == [Action(Step.update_user, "ayse.cicek", (("telephoneNumber", "2199"),))]


def test_a_person_set_inactive_is_disabled_and_stays_in_place(estate_data: EstateData) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 4, "active", value=False))
    actions = plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)
    assert actions == [Action(Step.disable_user, "ayse.cicek")]


def test_a_person_moved_to_another_department_moves_and_changes_groups(
    estate_data: EstateData,
) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 4, "department", value="zabita"))
    actions = plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)
    assert (
        Action(Step.move_user, "ayse.cicek", (("ou", f"OU=zabita,OU=Birimler,{BASE}"),)) in actions
    )
    assert Action(Step.add_member, "zabita", (("member", "ayse.cicek"),)) in actions
    assert Action(Step.remove_member, "yazilim", (("member", "ayse.cicek"),)) in actions
    assert Action(Step.remove_member, "bilgi-islem", (("member", "ayse.cicek"),)) in actions


def test_a_person_removed_from_the_data_is_disabled_moved_to_leavers_never_deleted(
    estate_data: EstateData,
) -> None:
    estate_data.edit("directory/people.yaml", lambda d: d["people"].pop(4))
    actions = plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)
    assert Action(Step.disable_user, "ayse.cicek") in actions
    assert Action(Step.move_user, "ayse.cicek", (("ou", f"OU=Ayrilanlar,{BASE}"),)) in actions
    assert Action(Step.remove_member, "yazilim", (("member", "ayse.cicek"),)) in actions
    assert {a.step for a in actions} <= {Step.disable_user, Step.move_user, Step.remove_member}


def test_a_leaver_already_disabled_and_moved_needs_nothing(estate_data: EstateData) -> None:
    estate_data.edit("directory/people.yaml", lambda d: d["people"].pop(4))
    desired = desired_directory(load_estate(estate_data.root))
    leaver = dataclasses.replace(
        DESIRED.users["ayse.cicek"], enabled=False, ou=f"OU=Ayrilanlar,{BASE}"
    )
    current = dataclasses.replace(desired, users={**desired.users, "ayse.cicek": leaver})
    assert plan_directory(desired, current) == []


def test_accounts_outside_bimkits_ous_are_never_touched() -> None:
    administrator = DESIRED.users["sukru.caglayan"].__class__(
        username="Administrator", ou=f"CN=Users,{BASE}", enabled=True
    )
    current = dataclasses.replace(DESIRED, users={**DESIRED.users, "Administrator": administrator})
    assert plan_directory(DESIRED, current) == []


def test_actions_read_as_sentences_for_dry_runs() -> None:
    action = Action(Step.update_user, "ayse.cicek", (("telephoneNumber", "2199"),))
    assert str(action) == "update user ayse.cicek (telephoneNumber=2199)"


def test_an_account_is_renamed_when_its_owner_changed_username(estate_data: EstateData) -> None:
    estate_data.edit("directory/usernames.yaml", setter("usernames", "1005", value="ayse.yilmaz"))
    estate_data.edit("directory/usernames.yaml", setter("retired", value={"ayse.cicek": "1005"}))
    actions = plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)
    assert actions == [
        Action(
            Step.rename_user,
            "ayse.cicek",
            (("username", "ayse.yilmaz"), ("alias", "ayse.cicek@kayapinar.bel.tr")),
        ),
        Action(Step.update_user, "ayse.yilmaz", (("mail", "ayse.yilmaz@kayapinar.bel.tr"),)),
    ]


def test_a_username_changed_by_hand_without_retiring_the_old_one_is_refused(
    estate_data: EstateData,
) -> None:
    estate_data.edit("directory/usernames.yaml", setter("usernames", "1005", value="ayse.yilmaz"))
    with pytest.raises(DirectoryRefused, match=r"bimkit usernames rename 1005 ayse\.yilmaz"):
        plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)


def test_a_namesake_added_before_recording_never_takes_an_existing_account(
    estate_data: EstateData,
) -> None:
    """The defect: by username, 0999 would have been handed 1004's account and password."""
    estate_data.edit(
        "directory/usernames.yaml",
        lambda d: [d["usernames"].pop(key) for key in ("1004", "1202")],
    )
    newcomer = {"id": "0999", "given_name": "Mehmet", "family_name": "Yılmaz",
                "department": "zabita"}  # fmt: skip
    estate_data.edit("directory/people.yaml", lambda d: d["people"].insert(0, newcomer))
    estate = load_estate(estate_data.root)
    assert estate.new_usernames["0999"] == "mehmet.yilmaz"
    with pytest.raises(DirectoryRefused) as refused:
        plan_directory(desired_directory(estate), DESIRED)
    message = str(refused.value)
    assert "`mehmet.yilmaz` is the account of 1004, not of 0999" in message
    assert "bimkit usernames --record" in message


def test_creating_an_unrecorded_username_is_refused_naming_the_person(
    estate_data: EstateData,
) -> None:
    newcomer = {"id": "2001", "given_name": "Rojin", "family_name": "Aksoy",
                "department": "zabita"}  # fmt: skip
    estate_data.edit("directory/people.yaml", lambda d: d["people"].append(newcomer))
    with pytest.raises(DirectoryRefused, match=r"Rojin Aksoy \(2001\).*bimkit usernames --record"):
        plan_directory(desired_directory(load_estate(estate_data.root)), DESIRED)


def test_an_account_is_found_by_its_personnel_id_not_its_name() -> None:
    """An account the DC holds under another name is still its owner's: no new one."""
    ayse = DESIRED.users["ayse.cicek"]
    moved = dataclasses.replace(ayse, username="a.cicek")
    users = {name: u for name, u in DESIRED.users.items() if name != "ayse.cicek"}
    current = dataclasses.replace(DESIRED, users={**users, "a.cicek": moved})
    with pytest.raises(DirectoryRefused, match=r"account of 1005 is `a.cicek`.*not retired"):
        plan_directory(DESIRED, current)


def test_two_accounts_with_one_personnel_id_are_refused() -> None:
    twin = dataclasses.replace(DESIRED.users["ayse.cicek"], username="ayse.cicek2")
    current = dataclasses.replace(DESIRED, users={**DESIRED.users, "ayse.cicek2": twin})
    with pytest.raises(DirectoryRefused, match=r"both carry employeeID 1005"):
        plan_directory(DESIRED, current)
