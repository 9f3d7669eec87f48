"""Who holds each extension (directory/extensions.yaml) and the rules around numbers:
credentials follow the recorded assignment, `bimkit pbx record` writes it, retired fields
and short numbers are refused with the reason."""

from __future__ import annotations

from typing import Any

from bimkit.model.load import load_estate
from bimkit.model.telephony import EXTENSIONS_FILE, credential, recording, sip_devices
from tests.conftest import REPO, EstateData
from tests.unit.test_cli import bimkit
from tests.unit.test_validation import assert_reported, problems_of, setter


def devices_by_extension(estate_data: EstateData) -> dict[int, Any]:
    return {device.extension: device for device in sip_devices(load_estate(estate_data.root))}


def test_a_credential_exists_only_for_the_last_recorded_holder() -> None:
    holders = {2102: ("person 1003",), 2103: ("person 1004", "person 1205")}
    assert credential(holders, "person 1003", 2102) == "person 1003 2102 #1"
    assert credential(holders, "person 1205", 2103) == "person 1205 2103 #2"
    assert credential(holders, "person 1004", 2103) is None, "an earlier holder has none"
    assert credential(holders, "person 1003", 2199) is None, "never recorded"


def test_an_extension_handed_to_someone_else_is_unrecorded_until_recorded(
    estate_data: EstateData,
) -> None:
    """Gülşen's 2102 goes to person 1205: until `bimkit pbx record`, no credential (the PBX
    deploy refuses it); after, a second assignment, and the other phones keep theirs."""
    before = devices_by_extension(estate_data)
    estate_data.edit("directory/people.yaml", setter("people", 2, "extension", value=2199))
    people = estate_data.read("directory/people.yaml")["people"]
    index = next(i for i, person in enumerate(people) if person["id"] == "1205")
    estate_data.edit("directory/people.yaml", setter("people", index, "extension", value=2102))
    devices = devices_by_extension(estate_data)
    assert devices[2102].owner == "person 1205" and devices[2102].credential is None
    assert devices[2199].credential is None

    noted = bimkit("validate", "--data", str(estate_data.root))
    assert noted.returncode == 0, noted.stderr
    assert "2 extension(s) not recorded" in noted.stderr and "2102, 2199" in noted.stderr

    result = bimkit("pbx", "record", "--data", str(estate_data.root))
    assert result.returncode == 0, result.stderr
    assert "recorded 2 assignment(s)" in result.stdout
    holders = estate_data.read(EXTENSIONS_FILE)["holders"]
    assert holders[2102] == ["person 1003", "person 1205"]
    assert holders[2199] == ["person 1003"]
    after = devices_by_extension(estate_data)
    assert after[2102].credential == "person 1205 2102 #2"
    assert after[2100].credential == before[2100].credential == "person 1001 2100 #1"

    again = bimkit("pbx", "record", "--data", str(estate_data.root))
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_a_lost_phone_is_reissued_and_an_unknown_extension_refused(
    estate_data: EstateData,
) -> None:
    result = bimkit("pbx", "record", "--reissue", "2103", "--data", str(estate_data.root))
    assert result.returncode == 0, result.stderr
    assert estate_data.read(EXTENSIONS_FILE)["holders"][2103] == ["person 1004"] * 2
    assert devices_by_extension(estate_data)[2103].credential == "person 1004 2103 #2"

    unknown = bimkit("pbx", "record", "--reissue", "2999", "--data", str(estate_data.root))
    assert unknown.returncode != 0
    assert "no phone has extension(s) 2999" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_recording_appends_and_never_rewrites_history() -> None:
    devices = sip_devices(load_estate(REPO))
    first = recording({}, devices)
    assert all(len(history) == 1 for history in first.values())
    assert recording(first, devices) == first
    moved = {**first, 2100: ("person 1002",)}
    assert recording(moved, devices)[2100] == ("person 1002", "person 1001")


def test_a_broken_ledger_is_refused_with_its_file(estate_data: EstateData) -> None:
    estate_data.write(EXTENSIONS_FILE, {"holders": {2100: ["someone; rm -rf /"]}})
    assert_reported(problems_of(estate_data.root), EXTENSIONS_FILE, "holders[2100][0]",
                    "is not `person <id>` or `phone")  # fmt: skip


def test_outside_line_is_retired_with_what_replaced_it(estate_data: EstateData) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 3, "outside_line", value=True))
    assert_reported(problems_of(estate_data.root), "directory/people.yaml",
                    "people[3].outside_line", "replaced by `calls:`")  # fmt: skip


def test_an_extension_that_is_an_emergency_number_or_the_citizen_line_is_refused(
    estate_data: EstateData,
) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 0, "extension", value=112))
    estate_data.edit("directory/people.yaml", setter("people", 1, "extension", value=153))
    problems = problems_of(estate_data.root)
    assert_reported(problems, "directory/people.yaml", "people[0].extension",
                    "112 is an emergency number")  # fmt: skip
    assert_reported(problems, "directory/people.yaml", "people[1].extension",
                    "153 is the citizen line")  # fmt: skip
