"""dr.asterisk: what a running Asterisk has loaded, read from its CLI as Asterisk 22 prints it."""

from __future__ import annotations

from dr.asterisk import (
    Loaded,
    endpoint_count,
    from_json,
    loaded,
    mailboxes,
    sip_accounts,
    voicemail_boxes,
)
from roles.pbx.plan import pjsip_conf, sip_password
from tests.conftest import example_host_data

# From the lab's pbx1 (Asterisk 22.10, Debian unstable), colour codes included.
ANSWERS = {
    "pjsip show endpoints": " Endpoint:  3150/3150   Not in use   0 of inf\n\nObjects found: 39\n",
    "voicemail show users": (
        "Context    Mbox  User                      Zone       NewMsg\n"
        "default    1530  Halil İbrahim Yücel                     0\n"
        "37 voicemail users configured.\n"
    ),
    "queue show": (
        "beyaz-masa has 0 calls (max unlimited) in 'ringall' strategy (4s holdtime, 62s "
        "talktime), W:0, C:3, A:1, SL:0.0%, SL2:0.0% within 0s\n   Members: \n"
        "      PJSIP/1531 (ringinuse disabled)\x1b[0m (\x1b[1;32;40mNot in use\x1b[0m) has "
        "taken 1 calls\n"
        "      PJSIP/1533 (ringinuse disabled)\x1b[0m (\x1b[1;31;40mUnavailable\x1b[0m) has "
        "taken no calls yet\n   No Callers\n\n"
        "zabita has 0 calls (max unlimited) in 'rrmemory' strategy (0s holdtime, 0s talktime), "
        "W:0, C:0, A:0, SL:0.0%, SL2:0.0% within 0s\n   No Members\n   No Callers\n"
    ),
    "core show version": "Asterisk 22.10.1+dfsg+~cs6.17.60671434-1 built by nobody @ "
    "buildd.debian.org on a unknown running Linux on 2026-07-20 21:35:32 UTC\n",
}


def test_what_asterisk_loaded_is_read_from_its_own_answers() -> None:
    found = loaded(ANSWERS.__getitem__)
    assert found == Loaded(
        endpoints=39,
        voicemail_boxes=37,
        queue_members={"beyaz-masa": 2, "zabita": 0},
        version="Asterisk 22.10.1+dfsg+~cs6.17.60671434-1",
    )
    recorded = '{"endpoints": 39, "voicemail_boxes": 37, "queue_members": {"beyaz-masa": 2}, '
    recorded += '"version": "x", "recorded": "t"}'
    assert from_json(recorded).endpoints == 39


def test_an_asterisk_with_nothing_loaded_counts_zero() -> None:
    assert endpoint_count("No objects found.\n") == 0
    assert voicemail_boxes("There are no voicemail users currently defined.\n") == 0


def test_the_drill_finds_a_box_to_call_and_an_account_to_call_from() -> None:
    assert mailboxes(ANSWERS["voicemail show users"]) == [1530]
    conf = pjsip_conf(example_host_data()["pbx1"]["pbx"], "a secret", None)
    accounts = sip_accounts(conf)
    assert accounts[2100] == sip_password("a secret", "person 1001 2100 #1")
    assert len(accounts) == len(example_host_data()["pbx1"]["pbx"]["devices"])
