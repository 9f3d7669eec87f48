"""Toll fraud and the people's own credentials on the lab's PBX.

Real Asterisk 22 on pbx1 and real SIP clients (SIPp) on workstations place every call.
The operator's SIP server is the one stand-in: a SIPp answering machine on zabita-ws02,
over real SIP, that answers whatever reaches it and logs every message, so a call that
must not go out is shown never to have reached it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bimkit.model.estate import Estate
from bimkit.model.load import load_estate
from bimkit.model.telephony import sip_devices
from roles.pbx.plan import HOLDERS, drop_registrations, voicemail_pin
from tests.conftest import REPO
from tests.lab.conftest import bimkit, lab_secret_values
from tests.lab.test_backups import on
from tests.lab.test_pbx import (
    CALLEE,
    CALLEE_HOST,
    CALLER_HOST,
    PBX,
    TRUNK_HOST,
    add_trunk,
    answer_in_background,
    answered,
    deploy_pbx,
    edit_file,
    edited_estate,
    password,
    phones,
    run_deploy,
    sipp,
)

__all__ = ["phones"]  # the module's fixture, shared with test_pbx

CLASS_OF: dict[int, list[str]] = {
    2104: ["local"],
    2105: ["national"],
    2106: ["mobile"],
    2107: ["local", "national", "mobile", "international"],
}
"""Phones given one class each in this module's data; 2100 keeps the default (local,
national, mobile) and the entrance-desk phone 3150 the site phones' (none)."""
DEFAULT, INTERNAL = 2100, CALLEE
LOCAL, NATIONAL, MOBILE = "02290001", "004122290001", "005321234567"
INTERNATIONAL, PREMIUM = "0004930123456", "009001234567"
TRUNK_LIMIT = 3
OPERATOR = "/root/sipp/operator"
TRUNK_PASSWORD = "lab-trunk-password"


@pytest.fixture(scope="module")
def classes(phones: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """The PBX with a trunk (at most TRUNK_LIMIT outside calls) and the classes of CLASS_OF;
    the operator answers every call for the module."""

    def give_classes(document: Any) -> None:
        for person in document["people"]:
            if person.get("extension") in CLASS_OF:
                person["calls"] = CLASS_OF[person["extension"]]

    def limit_trunk(document: Any) -> None:
        add_trunk(document)
        document["telephony"]["trunk"]["max_calls"] = TRUNK_LIMIT

    data = edited_estate(tmp_path_factory.mktemp("classes") / "estate", "estate.yaml",
                         limit_trunk)  # fmt: skip
    edit_file(data, "directory/people.yaml", give_classes)
    deploy_pbx(data, sip_trunk_password=TRUNK_PASSWORD)
    on(TRUNK_HOST, f"pkill -x sipp; rm -rf {OPERATOR} && mkdir -p {OPERATOR} && cd {OPERATOR} && "
                   "sipp -sn uas -aa -p 5090 -nostdin -timeout 900s -trace_msg -bg "
                   ">/dev/null 2>&1; true")  # fmt: skip
    try:
        yield load_estate(data)
    finally:
        on(TRUNK_HOST, "pkill -x sipp; true")
        deploy_pbx()


def operator_got() -> list[str]:
    """The numbers of every call that reached the operator, in order."""
    log = on(TRUNK_HOST, f"cat {OPERATOR}/uas_*_messages.log 2>/dev/null || true")
    return [line.split("sip:", 1)[1].split("@", 1)[0]
            for line in log.splitlines() if line.startswith("INVITE sip:")]  # fmt: skip


def call(estate: Estate, extension: int, number: str, port: int, *extra: str,
         talk_ms: int = 1000) -> tuple[int, str]:  # fmt: skip
    """Phone `extension` calls `number` from CALLER_HOST."""
    return sipp(CALLER_HOST, "call.xml", number, extension, password(extension, estate), port,
                "-key", "caller", str(extension), *extra, talk_ms=talk_ms)  # fmt: skip


def refused(output: str, status: int) -> bool:
    """SIPp's error log says the PBX answered the call (not an earlier one) with `status`."""
    return f"received 'SIP/2.0 {status} " in output


def until(condition: Any, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return bool(condition())


def test_each_class_reaches_what_it_opens_and_is_refused_the_rest(classes: Estate) -> None:
    """An allowed number reaches the operator as dialled after the `0` that takes the line;
    a closed one is refused with 403 and never leaves the PBX."""
    cases = [
        (2104, LOCAL, True), (2104, NATIONAL, False),
        (2105, NATIONAL, True), (2105, MOBILE, False), (2105, INTERNATIONAL, False),
        (2106, MOBILE, True), (2106, LOCAL, False),
        (DEFAULT, LOCAL, True), (DEFAULT, NATIONAL, True), (DEFAULT, MOBILE, True),
        (DEFAULT, INTERNATIONAL, False), (DEFAULT, PREMIUM, False),
        (2107, INTERNATIONAL, True), (2107, PREMIUM, False),
        (INTERNAL, LOCAL, False),
    ]  # fmt: skip
    for extension, number, allowed in cases:
        before = operator_got()
        code, output = call(classes, extension, number, 5082)
        reached = operator_got()[len(before):]
        if allowed:
            assert code == 0, f"{extension} could not call {number}:\n{output}"
            assert reached == [number[1:]], f"{extension} -> {number}: the operator got {reached}"
        else:
            assert refused(output, 403), f"{extension} -> {number}:\n{output}"
            assert reached == [], f"{extension} -> {number} went out: {reached}"
    said = f"bimkit: {DEFAULT} may not call {INTERNATIONAL}: international calls are not in"
    assert said in on("pbx1", "cat /var/log/asterisk/messages.log")
    assert until(lambda: said in on("log1", "cat /var/log/remote/*/pbx1.log 2>/dev/null || true"),
                 30), "the refusal never reached the log archive"  # fmt: skip


def test_dial_arguments_in_a_number_never_reach_dial(classes: Estate) -> None:
    """`&` and `,` would add a destination or options to Dial(); the entrance-desk phone,
    registered and answering, would ring if they did."""
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE,
                        password(CALLEE, classes), 5070)  # fmt: skip
    assert code == 0, output
    answer_in_background(CALLEE_HOST, 5070, "desk")
    before = operator_got()
    attempts = [
        (2105, "004122290001&PJSIP/3150", 404),  # the national pattern, a second destination
        (2107, "0004930123456&PJSIP/3150", 484),  # the international pattern's wildcard
        (2107, "0004930123456,30,D(1)", 484),  # Dial() options
        (2107, "0004930123456)&PJSIP/3150", 484),  # out of Gosub()'s arguments
    ]
    for port, (extension, number, status) in enumerate(attempts, start=5093):
        code, output = call(classes, extension, number, port)
        assert refused(output, status), f"{number}:\n{output}"
    assert operator_got() == before, "an injected number reached the operator"
    assert not answered(CALLEE_HOST, "desk", seconds=2), "an injected PJSIP/3150 rang the desk"


def background_call(estate: Estate, extension: int, number: str, port: int, media: int) -> None:
    """A call of about 16 s from `extension` to `number`, left running."""
    on(CALLER_HOST, f"cd /root/sipp && (setsid sipp -sf call.xml {PBX} -s {number} "
                    f"-au {extension} -ap {password(extension, estate)} -p {port} -mp {media} "
                    f"-m 1 -d 8000 -key caller {extension} -nostdin -timeout 60s "
                    ">/dev/null 2>&1 &)")  # fmt: skip


def test_a_phones_third_call_and_the_trunks_fourth_are_refused_but_112_goes_out(
    classes: Estate,
) -> None:
    start = len(operator_got())
    background_call(classes, DEFAULT, NATIONAL, 5084, 6100)
    background_call(classes, DEFAULT, MOBILE, 5085, 6200)
    assert until(lambda: len(operator_got()) == start + 2), "the first two calls never went out"
    code, output = call(classes, DEFAULT, LOCAL, 5086)
    assert refused(output, 486), f"a third call at once:\n{output}"
    background_call(classes, 2105, NATIONAL, 5087, 6300)  # the trunk's third outside call
    assert until(lambda: len(operator_got()) == start + 3), "another phone's call never went out"
    code, output = call(classes, 2104, LOCAL, 5088)
    assert refused(output, 503), f"a fourth call on a trunk of {TRUNK_LIMIT}:\n{output}"
    assert len(operator_got()) == start + 3
    for extension in (DEFAULT, 2104):  # at its own limit; on a full trunk
        code, output = call(classes, extension, "112", 5089)
        assert code == 0, f"112 from {extension}, with the limits reached:\n{output}"
    assert operator_got()[-2:] == ["112", "112"]
    on(CALLER_HOST, "while pgrep -x sipp >/dev/null; do sleep 1; done", check=False)
    assert call(classes, DEFAULT, NATIONAL, 5086)[0] == 0, "the limit is on calls at once only"


def test_112_connects_from_every_class(classes: Estate) -> None:
    phones = [INTERNAL, DEFAULT, *CLASS_OF]
    start = len(operator_got())
    for extension in phones:
        code, output = call(classes, extension, "112", 5081)
        assert code == 0, f"112 from {extension}:\n{output}"
    assert operator_got()[start:] == ["112"] * len(phones)


BOX = 2102  # Gülşen Yıldırım's extension, given to Gökhan Çelik (1205, who has none)
SPOOL = "/var/spool/asterisk/voicemail"


def test_a_reassigned_extension_refuses_the_old_phone(phones: None, tmp_path: Path) -> None:
    def reassign(document: Any) -> None:
        for person in document["people"]:
            if person.get("extension") == BOX:
                person.pop("extension")
                person.pop("phone_mac", None)
            if person["id"] == "1205":
                person["extension"] = BOX

    old = password(BOX)
    assert sipp(CALLER_HOST, "register.xml", BOX, BOX, old, 5079)[0] == 0, "Gülşen's phone"
    on("pbx1", f"install -d -o asterisk -g asterisk {SPOOL}/default/{BOX}/INBOX && "
               f"echo 'for Gülşen' > {SPOOL}/default/{BOX}/INBOX/msg0000.txt")  # fmt: skip
    data = edited_estate(tmp_path / "estate", "directory/people.yaml", reassign)
    try:
        refused = run_deploy(data, check=False)
        assert refused.returncode != 0
        assert f"{BOX} (person 1205) are not recorded" in refused.stdout + refused.stderr
        assert "bimkit pbx record" in refused.stdout + refused.stderr
        recorded = bimkit("pbx", "record", "--data", str(data), env={"COLUMNS": "200"})
        assert "new holder" in recorded.stdout and f"{BOX}: [person 1003, person 1205]" in (
            data / "directory/extensions.yaml").read_text()  # fmt: skip
        deployed = run_deploy(data)
        assert "Voicemail boxes: 1 archived" in deployed.stdout + deployed.stderr, deployed
        # Her phone no longer rings for his calls: its registration went with the deploy.
        assert f"{BOX}/sip:" not in on("pbx1", "asterisk -rx 'pjsip show contacts'")
        new = load_estate(data)
        for secret, expected in ((old, False), (password(BOX, new), True)):
            code, output = sipp(CALLER_HOST, "register.xml", BOX, BOX, secret, 5079)
            assert (code == 0) == expected, output
        # Gökhan's box is empty; Gülşen's messages are archived, not his to hear.
        assert on("pbx1", f"ls {SPOOL}/default/{BOX}/INBOX 2>/dev/null | wc -l") == "0"
        assert on("pbx1", f"cat {SPOOL}/archive/{BOX}-*/INBOX/msg0000.txt") == "for Gülşen"
        assert on("pbx1", f"cat {SPOOL}/default/{BOX}/bimkit-holder") == f"person 1205 {BOX} #2"
        # A lost phone: reissued, the one before is refused too.
        ledger = data / "directory/extensions.yaml"
        before_reissue = ledger.read_text()
        bimkit("pbx", "record", "--reissue", str(BOX), "--data", str(data))
        run_deploy(data)
        # The ledger put back as it was (a revert): its older assignment is refused.
        after_reissue = ledger.read_text()
        ledger.write_text(before_reissue)
        reverted = run_deploy(data, check=False)
        assert reverted.returncode != 0
        assert "records an older assignment than the one deployed" in (
            reverted.stdout + reverted.stderr)  # fmt: skip
        ledger.write_text(after_reissue)
        reissued = load_estate(data)
        assert sipp(CALLER_HOST, "register.xml", BOX, BOX, password(BOX, new), 5079)[0] != 0
        assert sipp(CALLER_HOST, "register.xml", BOX, BOX, password(BOX, reissued), 5079)[0] == 0
    finally:
        # Back to the repository's ledger, older than what was deployed: the deploy would
        # refuse it (the holder before would get their password back), so the test forgets
        # what it deployed, and drops the registration it made itself.
        on("pbx1", f"rm -f {HOLDERS}; {drop_registrations([BOX])[0]}")
        deploy_pbx()
        on("pbx1", f"rm -rf {SPOOL}/archive")


def keys_scenario(steps: list[tuple[int, str]], hang_up_ms: int) -> str:
    """call.xml up to the answer, then each (ms after the answer, keys): the keys sent as
    SIP INFO (application/dtmf-relay), as a desk phone sends them, 300 ms apart; speech
    (7 s of RTP audio, started every 6.5 s) all along, so that a recording hears some;
    BYE at hang_up_ms."""
    audio = '  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>' \
            "</action></nop>\n"  # fmt: skip
    events: list[tuple[int, str]] = [(at, "audio") for at in range(0, hang_up_ms, 6500)]
    for at, keys in steps:
        events += [(at + 300 * index, key) for index, key in enumerate(keys)]
    head = (REPO / "dr/drill/checks/call.xml").read_text().split("  <!-- Talk:", 1)[0]
    parts, now, cseq = [head], 0, 3
    for at, event in sorted(events, key=lambda e: e[0]):
        if at > now:
            parts.append(f'  <pause milliseconds="{at - now}"/>\n')
            now = at
        if event == "audio":
            parts.append(audio)
        else:
            parts.append(request("INFO", cseq, "Content-Type: application/dtmf-relay",
                                 f"Signal={event}\nDuration=160"))  # fmt: skip
            parts.append('  <recv response="200"/>\n')
            cseq += 1
    parts.append(f'  <pause milliseconds="{max(hang_up_ms - now, 1)}"/>\n')
    parts.append(request("BYE", cseq, "", ""))
    parts.append('  <recv response="200"/>\n</scenario>\n')
    return "".join(parts)


def request(method: str, cseq: int, header: str, body: str) -> str:
    lines = [f"{method} sip:[service]@[remote_ip] SIP/2.0",
             "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
             "From: <sip:[caller]@[remote_ip]>;tag=[pid]call[call_number]",
             "To: <sip:[service]@[remote_ip]>[peer_tag_param]", "Call-ID: [call_id]",
             f"CSeq: {cseq} {method}", "Contact: <sip:[caller]@[local_ip]:[local_port]>",
             "Max-Forwards: 70", *([header] if header else []), "Content-Length: [len]", "",
             *body.splitlines()]  # fmt: skip
    text = "\n".join(f"      {line}" for line in lines)
    return f'  <send retrans="500">\n    <![CDATA[\n{text}\n\n    ]]>\n  </send>\n'


PIN_BOX = 2103  # Mehmet Yılmaz (1004)
CHOSEN = "4826"


def voicemail_call(name: str, steps: list[tuple[int, str]], hang_up_ms: int) -> tuple[int, str]:
    """PIN_BOX's phone calls 8 (its own box) and keys in `steps`."""
    on(CALLER_HOST, f"cat > /root/sipp/{name}.xml <<'EOF'\n"
                    f"{keys_scenario(steps, hang_up_ms)}EOF")  # fmt: skip
    return sipp(CALLER_HOST, f"{name}.xml", 8, PIN_BOX, password(PIN_BOX), 5091,
                "-key", "caller", str(PIN_BOX), timeout=90)  # fmt: skip


def asterisk_log() -> str:
    return on("pbx1", "cat /var/log/asterisk/messages.log")


def test_the_initial_pin_must_be_changed_and_the_chosen_one_survives_a_deploy(
    phones: None,
) -> None:
    """The initial PIN opens the box once, into Asterisk's new-box setup: record a name
    (ended by `#`, kept with `1`), then a PIN of the holder's choice, twice. Afterwards the
    chosen PIN opens the box, across a deploy and a reload, and the initial one does not."""
    box = f"{SPOOL}/default/{PIN_BOX}"
    device = next(d for d in sip_devices(load_estate(REPO)) if d.extension == PIN_BOX)
    assert device.credential
    initial = voicemail_pin(lab_secret_values()["pbx_secret"], device.credential)
    opened = f"bimkit: voicemail {PIN_BOX} opened"
    on("pbx1", f"rm -f {box}/secret.conf {box}/greet.*; "
               "asterisk -rx 'module reload app_voicemail.so' >/dev/null")  # fmt: skip
    try:
        code, output = voicemail_call("first-use", [
            (2000, initial + "#"), (22000, "#"), (25000, "1"),
            (30000, CHOSEN + "#"), (36000, CHOSEN + "#")], 42000)  # fmt: skip
        assert code == 0, output
        assert f"voicemail {PIN_BOX}: the initial PIN was given" in asterisk_log()
        assert on("pbx1", f"grep -c '^password *= *{CHOSEN}$' {box}/secret.conf") == "1"
        deploy_pbx()
        on("pbx1", "asterisk -rx 'module reload app_voicemail.so' >/dev/null")
        assert on("pbx1", f"grep -c '^password *= *{CHOSEN}$' {box}/secret.conf") == "1"
        before = asterisk_log().count(opened)
        voicemail_call("initial-again", [(2000, initial + "#")], 8000)
        assert asterisk_log().count(opened) == before, "the initial PIN opened the box again"
        code, output = voicemail_call("chosen", [(2000, CHOSEN + "#")], 8000)
        assert code == 0, output
        assert asterisk_log().count(opened) == before + 1, "the chosen PIN did not open it"
    finally:
        on("pbx1", f"rm -f {box}/secret.conf {box}/greet.*; "
                   "asterisk -rx 'module reload app_voicemail.so' >/dev/null")  # fmt: skip
