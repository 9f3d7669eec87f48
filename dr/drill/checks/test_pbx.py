"""Checks of a restored PBX, run by the restore drill inside its Debian unstable sandbox.

testinfra's `host` is the sandbox (`--hosts=local://`), where the drill has
put the snapshot's /etc/asterisk, voicemail, astdb and prompts back and
started Asterisk. /drill/run/params.json names the file in the snapshot
that records what the production PBX had loaded when the backup was taken
(`bimkit-pbx-counts`, the backup's pre-hook): the restored Asterisk must
load the same. Each policy check (`verify:` in estate.yaml) runs the test of
the same name (`endpoint-counts` -> `test_endpoint_counts`);
`test_voicemail_call` runs in every PBX drill.
"""

from __future__ import annotations

import json
import os

import pytest

from dr.asterisk import Loaded, from_json, loaded, mailboxes, sip_accounts

with open("/drill/run/params.json", encoding="utf-8") as params:
    PARAMS = json.load(params)

MODULES = ("res_pjsip.so", "app_voicemail.so", "app_queue.so", "app_dial.so")
"""Without these the PBX places no call, keeps no message, runs no call centre."""


@pytest.fixture(scope="module")
def recorded() -> Loaded:
    with open(PARAMS["counts_file"], encoding="utf-8") as handle:
        return from_json(handle.read())


@pytest.fixture(scope="module")
def restored(host) -> Loaded:
    return loaded(lambda command: host.check_output("asterisk -rx %s", command))


def test_asterisk_starts(host):
    booted = host.run("asterisk -rx 'core waitfullybooted'")
    assert booted.rc == 0 and "fully booted" in booted.stdout, booted.stdout + booted.stderr
    for module in MODULES:
        shown = host.check_output("asterisk -rx %s", f"module show like {module}")
        assert "1 modules loaded" in shown, f"{module} is not loaded from the restored files"


def test_endpoint_counts(recorded, restored):
    if not PARAMS["allow_empty"]:
        assert recorded.endpoints > 0, "nothing to verify: production had no endpoint"
    assert (restored.endpoints, restored.voicemail_boxes) == (
        recorded.endpoints,
        recorded.voicemail_boxes,
    ), (
        f"restored {restored.endpoints} endpoints and {restored.voicemail_boxes} voicemail "
        f"boxes; production had {recorded.endpoints} and {recorded.voicemail_boxes} "
        f"at {recorded.recorded}"
    )


def test_queue_counts(recorded, restored):
    if not PARAMS["allow_empty"]:
        assert recorded.queue_members, "nothing to verify: production had no queue"
    assert restored.queue_members == recorded.queue_members, (
        f"restored queues (agents) {restored.queue_members}; production had "
        f"{recorded.queue_members} at {recorded.recorded}"
    )


def test_voicemail_call(host):
    """A SIP call placed inside the sandbox to a box nobody answers reaches voicemail: the
    caller (SIPp, the scenario the lab's phones use) waits out the greeting and speaks, and
    the box keeps a recording of at least two seconds."""
    boxes = mailboxes(host.check_output("asterisk -rx 'voicemail show users'"))
    accounts = sip_accounts(host.file("/etc/asterisk/pjsip.conf").content_string)
    assert boxes, "the restored PBX has no voicemail box"
    box = boxes[0]
    caller = next(extension for extension in sorted(accounts) if extension != box)
    inbox = f"/var/spool/asterisk/voicemail/default/{box}/INBOX"
    before = host.run(f"ls {inbox}/msg*.txt 2>/dev/null | wc -l").stdout.strip()
    # The password goes through a file, never through a command line a report could quote.
    secret = "/tmp/drill-sip-password"
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(accounts[caller])
    scenario = os.path.join(os.path.dirname(__file__), "call.xml")
    call = host.run(
        f'cd /tmp && sipp -sf {scenario} 127.0.0.1 -s {box} -au {caller} -ap "$(cat {secret})" '
        f"-key caller {caller} -p 5099 -m 1 -d 11000 -timeout 60s -timeout_error -nostdin "
        ">/dev/null 2>&1; echo exit=$?"
    )
    answered = call.stdout.strip() == "exit=0"
    assert answered, f"the call to {box} from {caller} was not answered and hung up cleanly"
    after = host.run(f"ls {inbox}/msg*.txt 2>/dev/null | wc -l").stdout.strip()
    assert int(after) == int(before) + 1, f"box {box} has {after} messages, had {before}"
    newest = host.run(f"ls -t {inbox}/msg*.txt | head -n 1").stdout.strip()
    seconds = host.file(newest).content_string.split("duration=", 1)[1].split()[0]
    assert int(seconds) >= 2, f"box {box} kept a {seconds} s recording"
