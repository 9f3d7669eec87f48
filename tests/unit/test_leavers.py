"""bimkit.leavers: disabled accounts and what they own, from the DC's and file servers' views."""

from __future__ import annotations

from bimkit.directory import desired_directory, directory_state
from bimkit.leavers import add_owned, leavers
from bimkit.model.load import load_estate
from tests.conftest import REPO

ESTATE = load_estate(REPO)


def dc_view() -> dict[str, object]:
    """The estate's directory as the DC holds it, plus a disabled built-in account outside
    bimkit's OUs (never listed)."""
    state = directory_state(desired_directory(ESTATE))
    state["users"]["krbtgt"] = {"ou": "CN=Users," + state["base"], "enabled": False,
                                "attributes": {}}  # fmt: skip
    return state


def test_disabled_people_are_listed_largest_first_with_their_files() -> None:
    state = dc_view()
    disabled = sorted(name for name, user in state["users"].items()
                      if not user["enabled"] and name != "krbtgt")  # fmt: skip
    assert disabled == ["umit.kurt"]
    state["users"]["dilan.ekinci"]["enabled"] = False
    owned = add_owned({"fs1": {201126: [3, 1000]}, "fs2": {201126: [1, 500], 201605: [1, 10]}})
    found = leavers(state, {"umit.kurt": 201605, "dilan.ekinci": 201126}, owned)
    assert [(f.username, f.files, f.bytes) for f in found] == [
        ("dilan.ekinci", 4, 1500), ("umit.kurt", 1, 10),
    ]  # fmt: skip
    assert found[1].display_name == "Ümit Kurt" and found[1].person_id == "1605"


def test_a_leaver_no_file_server_knows_owns_nothing() -> None:
    [found] = leavers(dc_view(), {}, add_owned({"fs1": None}))
    assert (found.username, found.uid, found.files, found.bytes) == ("umit.kurt", None, 0, 0)
