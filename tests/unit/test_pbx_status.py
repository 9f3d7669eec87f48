"""`bimkit pbx status`: Asterisk's own answers read into registrations, queues, full boxes."""

from __future__ import annotations

from ipaddress import IPv4Address

from bimkit.model.load import load_estate
from bimkit.pbx_status import (
    STATUS_COMMAND,
    registered_contacts,
    registrations,
    sections,
    voicemail_counts,
)
from dr.asterisk import queues
from tests.conftest import REPO

# As Asterisk 22 prints them (colour codes included), from the lab's pbx1.
OUTPUT = (
    "=== bimkit contacts ===\n"
    "  Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>\n"
    "==========================================================================================\n"
    "  Contact:  1531/sip:1531@10.21.18.22:5076                 988c8577f8 NonQual        -nan\n"
    "  Contact:  3150/sip:3150@10.21.50.11:5070                 612e8afca1 NonQual        -nan\n"
    "\nObjects found: 2\n"
    "=== bimkit queues ===\n"
    "beyaz-masa has 1 call (max unlimited) in 'ringall' strategy (0s holdtime, 0s talktime), "
    "W:0, C:1, A:1, SL:0.0%, SL2:0.0% within 0s\n"
    "   Members: \n"
    "      PJSIP/1531 (ringinuse disabled)\x1b[0m\x1b[0m\x1b[0m (\x1b[1;32;40mNot in use\x1b[0m) "
    "has taken 1 calls\n"
    "      PJSIP/1533 (ringinuse disabled)\x1b[0m (\x1b[1;31;40mUnavailable\x1b[0m) has taken no "
    "calls yet\n"
    "   Callers: \n"
    "=== bimkit voicemail ===\n"
    "/var/spool/asterisk/voicemail/default/2100/INBOX/msg0000.txt\n"
    "/var/spool/asterisk/voicemail/default/2100/INBOX/msg0001.txt\n"
    "/var/spool/asterisk/voicemail/default/3101/INBOX/msg0000.txt\n"
)


def test_the_status_command_marks_each_answer() -> None:
    assert set(sections(OUTPUT)) == {"contacts", "queues", "voicemail"}
    assert "asterisk -rx 'pjsip show contacts'" in STATUS_COMMAND


def test_contacts_queues_and_boxes_are_read_from_asterisks_answers() -> None:
    found = sections(OUTPUT)
    assert registered_contacts(found["contacts"]) == {
        1531: IPv4Address("10.21.18.22"), 3150: IPv4Address("10.21.50.11")}  # fmt: skip
    (queue,) = queues(found["queues"])
    assert (queue.name, queue.waiting, queue.answered, queue.abandoned) == ("beyaz-masa", 1, 1, 1)
    assert queue.members == {1531: "Not in use", 1533: "Unavailable"}
    assert voicemail_counts(found["voicemail"]) == {2100: 2, 3101: 1}


def test_registrations_are_counted_per_site_and_for_the_staff() -> None:
    estate = load_estate(REPO)
    groups = {g.group: g for g in registrations(estate, registered_contacts(
        sections(OUTPUT)["contacts"]))}  # fmt: skip
    assert (groups["zabita"].registered, groups["zabita"].expected) == ([3150], [3150])
    assert groups["fen-isleri"].missing == [4150]
    staff = groups["staff"]
    assert staff.registered == [1531] and len(staff.expected) == 37 and 2100 in staff.missing
