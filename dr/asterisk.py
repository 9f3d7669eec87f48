"""What a running Asterisk has loaded, read from its CLI: on the PBX and in the PBX drill.

    bimkit-pbx-counts FILE

The backup agent runs it as the `pbx` service's pre-hook: it records how many
endpoints, voicemail boxes and queue members the production PBX has loaded,
in FILE, which goes into the same snapshot. The drill starts Asterisk from
that snapshot and must find the same (dr.drill.pbx). `bimkit pbx status`
reads queues with the same parser.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from dr.paths import MANIFESTS_DIR

COMMANDS = {
    "endpoints": "pjsip show endpoints",
    "voicemail": "voicemail show users",
    "queues": "queue show",
    "version": "core show version",
}
"""What the counts are read from: `asterisk -rx COMMAND`."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_QUEUE = re.compile(
    r"^(\S+) has (\d+) calls? .*\((\d+)s holdtime, (\d+)s talktime\), W:\d+, C:(\d+), A:(\d+)"
)
_MEMBER = re.compile(r"^\s+PJSIP/(\d+) .*\((Not in use|In use|Ringing|Unavailable|Busy|Invalid|"
                     r"On Hold|Ring\+Inuse|Unknown)\)")  # fmt: skip


def counts_file(service: str) -> str:
    """Where the pre-hook records what production had loaded (backed up with the service)."""
    return f"{MANIFESTS_DIR}/{service}-asterisk.json"


def plain(text: str) -> str:
    """Asterisk's CLI output without its colours."""
    return _ANSI.sub("", text)


@dataclass
class QueueState:
    """A queue now, and its statistics since Asterisk started (the queue_log, forwarded to
    the log archive, keeps every call)."""

    name: str
    waiting: int
    hold_seconds: int
    """Average wait of answered calls."""
    talk_seconds: int
    answered: int
    abandoned: int
    members: dict[int, str] = field(default_factory=dict)
    """extension -> state (`Not in use`, `In use`, `Unavailable`, ...)."""


def queues(text: str) -> list[QueueState]:
    """`queue show`, read."""
    found: list[QueueState] = []
    for line in plain(text).splitlines():
        if match := _QUEUE.match(line):
            waiting, hold, talk, answered, abandoned = map(int, match.groups()[1:])
            found.append(QueueState(match[1], waiting, hold, talk, answered, abandoned))
        elif (member := _MEMBER.match(line)) and found:
            found[-1].members[int(member[1])] = member[2]
    return found


def endpoint_count(text: str) -> int:
    """`pjsip show endpoints`: its `Objects found: N`, or 0 (`No objects found.`)."""
    match = re.search(r"Objects found: (\d+)", plain(text))
    return int(match[1]) if match else 0


def voicemail_boxes(text: str) -> int:
    """`voicemail show users`: its `N voicemail users configured.`, or 0."""
    match = re.search(r"(\d+) voicemail users? configured", plain(text))
    return int(match[1]) if match else 0


def mailboxes(text: str) -> list[int]:
    """`voicemail show users`: the boxes of context `default`, in order."""
    return [int(m[1]) for m in re.finditer(r"^default\s+(\d+)\s", plain(text), re.M)]


def sip_accounts(pjsip_conf: str) -> dict[int, str]:
    """extension -> SIP password, from the auth sections of a pjsip.conf roles/pbx wrote."""
    found = re.finditer(r"^\[(\d+)\]\ntype=auth\n(?:[^\[\n][^\n]*\n)*?password=(\S+)$",
                        pjsip_conf, re.M)  # fmt: skip
    return {int(m[1]): m[2] for m in found}


@dataclass(frozen=True)
class Loaded:
    """What one Asterisk had loaded."""

    endpoints: int
    voicemail_boxes: int
    queue_members: dict[str, int]
    """queue -> how many agents."""
    version: str
    recorded: str = ""


def loaded(ask: Callable[[str], str]) -> Loaded:
    """Read through `ask`, which runs `asterisk -rx COMMAND` somewhere and returns its output."""
    answers = {name: ask(command) for name, command in COMMANDS.items()}
    return Loaded(
        endpoints=endpoint_count(answers["endpoints"]),
        voicemail_boxes=voicemail_boxes(answers["voicemail"]),
        queue_members={q.name: len(q.members) for q in queues(answers["queues"])},
        version=plain(answers["version"]).strip().split(" built ", 1)[0],
    )


def from_json(text: str) -> Loaded:
    return Loaded(**json.loads(text))


def ask_here(command: str) -> str:
    done = subprocess.run(["asterisk", "-rx", command], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    if done.returncode != 0 or "Unable to connect" in done.stdout + done.stderr:
        said = (done.stderr or done.stdout).strip()[-300:]
        raise SystemExit(f"bimkit-pbx-counts: Asterisk did not answer `{command}`: {said}")
    return done.stdout


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: bimkit-pbx-counts FILE", file=sys.stderr)
        return 2
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    found = loaded(ask_here)
    record = {**asdict(found), "recorded": now}
    target = arguments[0]
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    with open(f"{target}.tmp", "w", encoding="utf-8") as out:
        json.dump(record, out, indent=1)
    os.replace(f"{target}.tmp", target)
    print(f"bimkit-pbx-counts: {found.endpoints} endpoints, {found.voicemail_boxes} voicemail "
          f"boxes, {len(found.queue_members)} queues -> {target}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
