"""Usernames are unique, derived once, and never change afterwards."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bimkit.model.schema import Person
from bimkit.model.usernames import assign_usernames


def person(
    person_id: str, given_name: str = "Mehmet", family: str = "Yılmaz", **extra: object
) -> Person:
    return Person.model_validate(
        {
            "id": person_id,
            "given_name": given_name,
            "family_name": family,
            "department": "kalem",
            **extra,
        }
    )


def test_namesakes_get_numeric_suffixes_in_order_of_their_id() -> None:
    people = [person("31"), person("7"), person("120")]
    assert assign_usernames(people, {}).by_person == {
        "7": "mehmet.yilmaz",
        "31": "mehmet.yilmaz2",
        "120": "mehmet.yilmaz3",
    }


def test_recorded_username_survives_the_namesake_leaving() -> None:
    first = assign_usernames([person("7"), person("31")], {})
    registry = first.by_person
    # Person 7 leaves: person 31 must not become `mehmet.yilmaz`.
    after = assign_usernames([person("31")], registry)
    assert after.by_person == {"31": "mehmet.yilmaz2"}
    assert after.new == {}


def test_username_of_a_leaver_is_never_given_to_a_newcomer() -> None:
    registry = {"7": "mehmet.yilmaz"}
    after = assign_usernames([person("200")], registry)
    assert after.by_person == {"200": "mehmet.yilmaz2"}
    assert after.new == {"200": "mehmet.yilmaz2"}


def test_a_newcomer_with_a_lower_id_does_not_take_a_recorded_name() -> None:
    registry = assign_usernames([person("31")], {}).by_person
    after = assign_usernames([person("2"), person("31")], registry)
    assert after.by_person == {"2": "mehmet.yilmaz2", "31": "mehmet.yilmaz"}


def test_explicit_username_wins_and_counts_as_new_until_recorded() -> None:
    after = assign_usernames([person("7", username="m.yilmaz")], {"7": "mehmet.yilmaz"})
    assert after.by_person == {"7": "m.yilmaz"}
    assert after.new == {"7": "m.yilmaz"}


def test_derived_names_avoid_explicit_ones() -> None:
    people = [person("5", given_name="Ali", family="Kaya", username="mehmet.yilmaz"), person("9")]
    assert assign_usernames(people, {}).by_person["9"] == "mehmet.yilmaz2"


NAMES = st.sampled_from(["Mehmet", "Ayşe", "İbrahim", "Şükrü"])
FAMILIES = st.sampled_from(["Yılmaz", "Çiçek", "Öztürk"])


@settings(max_examples=60)
@given(
    st.lists(st.tuples(NAMES, FAMILIES), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_usernames_do_not_depend_on_the_order_of_the_data(names, random) -> None:
    people = [person(str(i + 1), g, f) for i, (g, f) in enumerate(names)]
    shuffled = people[:]
    random.shuffle(shuffled)
    expected = assign_usernames(people, {}).by_person
    assert assign_usernames(shuffled, {}).by_person == expected
    assert len(set(expected.values())) == len(people)


@settings(max_examples=60)
@given(
    st.lists(st.tuples(NAMES, FAMILIES), min_size=2, max_size=12),
    st.data(),
)
def test_recorded_usernames_survive_any_removal_and_addition(names, data) -> None:
    people = [person(str(i + 1), g, f) for i, (g, f) in enumerate(names)]
    registry = assign_usernames(people, {}).by_person
    kept = data.draw(st.lists(st.sampled_from(people), unique_by=lambda p: p.id, min_size=1))
    added = [person(str(100 + i), g, f) for i, (g, f) in enumerate(names[:3])]
    after = assign_usernames(added + kept, registry).by_person
    assert all(after[p.id] == registry[p.id] for p in kept)
    assert not set(registry.values()) & {after[p.id] for p in added}
