"""roles.managed and its facts: what a bundled converge sees and decides, from data, no host."""

from __future__ import annotations

import hashlib

from roles.facts import PathsState, ServicesState
from roles.managed import (
    Absent,
    ManagedDirectory,
    ManagedFile,
    ManagedLink,
    Service,
    differences,
    markers,
    pending_marker,
    then_commands,
)

CHRONY = ManagedFile("/etc/chrony/chrony.conf", "server dc1\n", then=("systemctl restart chrony",))
SECRET = ManagedFile("/etc/bimkit/restic/password", "pw\n", mode="600", private=True)
MASK = ManagedLink(
    "/etc/systemd/system/smbd.service", "/dev/null", then=("systemctl daemon-reload",)
)
FOLDER = ManagedDirectory("/srv/restic", mode="750", user="restic-rest-server",
                          group="restic-rest-server")  # fmt: skip
WANTED = [CHRONY, SECRET, MASK, FOLDER, Absent("/etc/rsyslog.d/90-bimkit-forward.conf"),
          Service("chrony.service")]  # fmt: skip
DIGESTS = {f.path: hashlib.sha256(f.content.encode()).hexdigest() for f in (CHRONY, SECRET)}
FOUND = PathsState().process(
    [
        f"/etc/chrony/chrony.conf\tregular file|644|root|root\t{DIGESTS[CHRONY.path]}",
        f"/etc/bimkit/restic/password\tregular file|600|root|root\t{DIGESTS[SECRET.path]}",
        "/etc/systemd/system/smbd.service\tsymbolic link|777|root|root\t-> /dev/null",
        "/srv/restic\tdirectory|750|restic-rest-server|restic-rest-server\t-",
    ]
)
RUNNING = ServicesState().process(["chrony.service active enabled"])


def test_a_host_that_holds_everything_needs_nothing() -> None:
    assert not differences(WANTED, FOUND, RUNNING, DIGESTS)


def test_each_kind_of_drift_is_seen() -> None:
    drifted = {
        **FOUND,
        CHRONY.path: {**FOUND[CHRONY.path], "sha256": "0" * 64},
        SECRET.path: {**FOUND[SECRET.path], "mode": "644"},
        MASK.path: {**FOUND[MASK.path], "sha256": "-> /lib/systemd/system/smbd.service"},
        FOLDER.path: {**FOUND[FOLDER.path], "user": "root"},
        "/etc/rsyslog.d/90-bimkit-forward.conf": {"type": "f", "mode": "644", "user": "root",
                                                 "group": "root", "sha256": "x"},
    }  # fmt: skip
    stopped = ServicesState().process(["chrony.service inactive enabled"])
    found = differences(WANTED, drifted, stopped, DIGESTS)
    assert found.files == [CHRONY, SECRET]
    assert found.links == [MASK] and found.directories == [FOLDER]
    assert [a.path for a in found.absent] == ["/etc/rsyslog.d/90-bimkit-forward.conf"]
    assert found.services == [Service("chrony.service")]


def test_a_missing_path_or_unit_is_drift_too() -> None:
    found = differences(WANTED, {}, {}, DIGESTS)
    assert found.files == [CHRONY, SECRET] and found.links == [MASK]
    assert found.absent == [] and found.services == [Service("chrony.service")]


def test_follow_up_commands_run_once_each_in_their_first_order() -> None:
    reload_and_restart = ("systemctl daemon-reload", "systemctl restart x")
    unit = ManagedFile("/etc/systemd/system/x.service", "", then=reload_and_restart)
    assert then_commands([MASK, unit, CHRONY, MASK]) == [
        "systemctl daemon-reload",
        "systemctl restart x",
        "systemctl restart chrony",
    ]


def test_the_facts_ask_every_path_and_unit_in_one_command() -> None:
    command = PathsState().command(["/etc/a b", "/etc/c"])
    assert command.count("for p in") == 1 and "'/etc/a b'" in command
    assert ServicesState().command(["a.service", "b.timer"]).count("for u in") == 1


def test_a_follow_up_that_failed_is_still_owed_when_the_files_are_in_place() -> None:
    """A restart that failed left its marker: the next deploy restarts again, and says so."""
    owed = {**FOUND, pending_marker("systemctl restart chrony"): {"type": "f", "mode": "600",
            "user": "root", "group": "root", "sha256": "x"}}  # fmt: skip
    found = differences(WANTED, owed, RUNNING, DIGESTS)
    assert found and found.files == [] and found.follow_ups == ["systemctl restart chrony"]
    assert pending_marker("systemctl restart chrony") in markers(WANTED)
    assert differences(WANTED, FOUND, RUNNING, DIGESTS).follow_ups == []


def test_what_changed_brings_its_follow_ups_before_those_still_owed() -> None:
    owed = {**FOUND, CHRONY.path: {**FOUND[CHRONY.path], "sha256": "0" * 64},
            pending_marker("systemctl daemon-reload"): {"type": "f", "mode": "600",
            "user": "root", "group": "root", "sha256": "x"}}  # fmt: skip
    found = differences(WANTED, owed, RUNNING, DIGESTS)
    assert found.follow_ups == ["systemctl restart chrony", "systemctl daemon-reload"]
