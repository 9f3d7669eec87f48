"""Checks of a restored PBX, run by the restore drill inside its Debian unstable sandbox.

testinfra's `host` is the sandbox (`--hosts=local://`), where the drill has
put the snapshot's /etc/asterisk, voicemail, astdb and prompts back and
started Asterisk. /drill/run/params.json names the file in the snapshot
that records what the production PBX had loaded when the backup was taken
(`bimkit-pbx-counts`, the backup's pre-hook): the restored Asterisk must
load the same. Each policy check (`verify:` in estate.yaml) runs the test of
the same name (`endpoint-counts` -> `test_endpoint_counts`).
"""

from __future__ import annotations

import json

import pytest

from dr.asterisk import Loaded, from_json, loaded

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
