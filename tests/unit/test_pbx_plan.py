"""roles/pbx: Asterisk's files from the people and site data, planned without a host."""

from __future__ import annotations

import re
from typing import Any

from roles.managed import Absent
from roles.pbx.plan import (
    ASTERISK_LIMITS,
    HANDOVER_FILE,
    HOLDERS,
    MSMTP_CONF,
    box_changes,
    call_context,
    display,
    drop_registrations,
    extensions_conf,
    holders_text,
    mail,
    packages,
    pjsip_conf,
    plan_pbx,
    queues_conf,
    rolled_back,
    sip_password,
    stale_registrations,
    voicemail_conf,
    voicemail_pin,
)
from tests.conftest import EstateData, example_host_data
from tests.unit.test_validation import assert_reported, problems_of, setter

PBX: dict[str, Any] = example_host_data()["pbx1"]["pbx"]
SECRET = "test pbx secret"
SUKRU = "person 1001 2100 #1"  # Şükrü Çağlayan's first assignment of 2100
BOXES = "/var/spool/asterisk/voicemail/default"
TRUNK = {"host": "10.21.16.250", "port": 5060, "username": "kayapinar",
         "numbers": ["4122290000"], "max_calls": 30, "registration": False}  # fmt: skip


def test_every_active_person_with_an_extension_and_every_site_phone_has_an_account() -> None:
    extensions = [device["extension"] for device in PBX["devices"]]
    assert 2100 in extensions and 3150 in extensions and 4150 in extensions  # people, phones
    assert 2504 not in extensions, "Ümit Kurt is inactive: no endpoint"
    conf = pjsip_conf(PBX, SECRET, None)
    auth = "[2100]\ntype=auth\nauth_type=userpass\nusername=2100\n"
    assert f"{auth}password={sip_password(SECRET, SUKRU)}\n" in conf
    # A site phone: the estate's extensions only; a person: local, national and mobile.
    assert "[3150](device-defaults)\ncontext=calls-internal\nset_var=CALL_LIMIT=2\n" in conf
    assert "[2100](device-defaults)\ncontext=calls-local-national-mobile\n" in conf


def test_credentials_belong_to_the_assignment_not_the_number() -> None:
    """A new holder of 2100, or Şükrü again after someone else, or a reissued phone: each
    a new password and initial PIN; the secret changes them all."""
    again = "person 1001 2100 #3"
    assert sip_password(SECRET, SUKRU) != sip_password(SECRET, "person 1004 2100 #2")
    assert sip_password(SECRET, SUKRU) != sip_password(SECRET, again)
    assert sip_password(SECRET, SUKRU) != sip_password("another secret", SUKRU)
    assert voicemail_pin(SECRET, SUKRU) != voicemail_pin(SECRET, again)
    assert len(sip_password(SECRET, SUKRU)) == 24
    assert voicemail_pin(SECRET, SUKRU).isdigit() and len(voicemail_pin(SECRET, SUKRU)) == 6


def context_of(conf: str, name: str) -> str:
    """The lines of context `name`, up to the next context or comment, blank lines dropped."""
    body = re.split(r"\n(?=[\[;])", conf.split(f"\n[{name}]\n", 1)[1], maxsplit=1)[0]
    return "".join(f"{line}\n" for line in body.splitlines() if line)


def test_emergency_numbers_come_first_in_every_context_a_phone_dials_from() -> None:
    conf = extensions_conf({**PBX, "trunk": TRUNK})
    assert "exten => 112,1,NoOp(Emergency call to 112" in conf
    assert " same => n,Dial(PJSIP/112@trunk)" in conf
    classes = {call_context(device["calls"]) for device in PBX["devices"]}
    assert {"calls-internal", "calls-local-national-mobile"} <= classes
    for context in classes:
        assert context_of(conf, context).startswith("include => emergency\ninclude => devices\n")
        assert context_of(conf, context).endswith("include => closed\n")
    assert "Gosub" not in context_of(conf, "emergency"), "no limit before an emergency call"
    inbound = conf.split("[from-trunk]\n", 1)[1]
    assert (
        "exten => 4122290000,1,Goto(ivr,s,1)" in inbound
        and "exten => 153,1,Goto(ivr,s,1)" in inbound
    )
    assert "Queue(beyaz-masa,t,,,300)" in conf


def test_each_class_opens_only_its_kinds_of_number_and_closes_the_rest() -> None:
    conf = extensions_conf({**PBX, "trunk": TRUNK})
    assert context_of(conf, "calls-internal") == (
        "include => emergency\ninclude => devices\ninclude => closed\n")
    national = context_of(conf, "calls-local-national-mobile")
    assert "include => out-local\ninclude => out-national\ninclude => out-mobile\n" in national
    assert "out-international" not in national and "out-premium" not in national
    assert "exten => _005XXXXXXXXX,1,Gosub(trunk-call,s,1(${EXTEN:1}))" in context_of(
        conf, "out-mobile")  # fmt: skip
    closed = context_of(conf, "closed")
    assert "exten => _009XXXXXXXXX,1,Gosub(closed-call,s,1(premium,${FILTER(0-9,${EXTEN})}))" \
        in closed  # fmt: skip
    assert "Hangup(21)" in context_of(conf, "closed-call")  # 403 Forbidden
    assert call_context(["international", "local", "internal"]) == "calls-local-international"
    assert call_context([]) == call_context(["internal"]) == "calls-internal"


def test_only_digits_reach_dial_and_the_trunk_has_its_limit() -> None:
    """Every pattern but the international one is fixed-length digits; that one is checked
    for digits, and Dial() takes the number through FILTER(0-9) whatever the pattern."""
    conf = extensions_conf({**PBX, "trunk": TRUNK})
    patterns = [line.split(",", 1)[0].removeprefix("exten => ")
                for line in context_of(conf, "closed").splitlines() if line]  # fmt: skip
    wildcards = [pattern for pattern in patterns if pattern.endswith(".")]
    for pattern in patterns:
        assert set(pattern[1:]) <= set("0123456789XN[]-") or pattern in wildcards
    assert set(wildcards) == {"_00090.", "_000[1-8]X.", "_0009[1-9]X."}
    international = context_of(conf, "out-international")
    assert "${LEN(${FILTER(0-9,${EXTEN})})} != ${LEN(${EXTEN})}" in international
    assert "?not-a-number,s,1)" in international
    trunk = context_of(conf, "trunk-call")
    assert "Dial(PJSIP/${FILTER(0-9,${ARG1})}@trunk,120,b(trunk-leg^s^1))" in trunk
    assert "GROUP_COUNT(outside@trunk)} > 30 | ${GROUP_COUNT(leg@trunk)} >= 30]?full)" in trunk
    assert "Gosub(call-limit,s,1)" in trunk


def test_a_transfer_cannot_join_two_outside_lines_for_free() -> None:
    """An outside caller transferred to an outside number (its channel has no CALL_LIMIT)
    is refused; each outside leg counts against the trunk and ends after two hours, wherever
    a transfer takes it; Turkey's own numbers dialled as international are premium."""
    conf = extensions_conf({**PBX, "trunk": TRUNK})
    trunk = context_of(conf, "trunk-call")
    assert trunk.startswith('exten => s,1,GotoIf($["${CALL_LIMIT}" = ""]?notaphone)\n')
    assert "Hangup(21)" in trunk.split("(notaphone)", 1)[1]
    assert context_of(conf, "trunk-leg") == (
        "exten => s,1,Set(GROUP(trunk)=leg)\n same => n,Set(TIMEOUT(absolute)=7200)\n"
        " same => n,Return()\n")
    premium = context_of(conf, "out-premium")
    assert "exten => _00090.," in premium and "exten => _008[1-9]XXXXXXXX," in premium
    national = context_of(conf, "out-national")
    assert "_00850XXXXXXX" in national and "_008[1-9]" not in national
    pjsip = pjsip_conf({**PBX, "trunk": TRUNK}, SECRET, "trunk secret")
    assert "[device-defaults](!)\ntype=endpoint\n" in pjsip and "identify_by=username" in pjsip
    assert "identify_by=ip\ncontext=from-trunk" in pjsip
    limit = context_of(conf, "call-limit")
    assert "GROUP_COUNT(${CHANNEL(endpoint)}@phone)} > ${CALL_LIMIT}]?over)" in limit
    assert "Busy(2)" in limit
    assert "exten => 2100,1,Gosub(call-limit,s,1)\n" in context_of(conf, "devices")


def test_no_trunk_means_no_outside_call() -> None:
    conf = extensions_conf({**PBX, "trunk": None})
    assert "Dial(PJSIP/${" not in conf and "Congestion(2)" in context_of(conf, "trunk-call")


def test_no_dialplan_line_is_cut_short_by_asterisks_comment_sign() -> None:
    """Asterisk's config parser ends a line at `;` (outside `\\;`): a `;` inside an
    expression would silently drop the rest of the line, a check or a limit with it."""
    conf = extensions_conf({**PBX, "trunk": TRUNK})
    for line in conf.splitlines():
        if line.lstrip().startswith(";"):
            continue
        assert ";" not in line.replace("\\;", ""), line


def test_voicemail_boxes_and_queue_agents_come_from_the_people() -> None:
    boxes = voicemail_conf(PBX)
    # No PIN in the file: the box's own number marks a box whose holder must choose one.
    assert "2100 => 2100,Şükrü Çağlayan,sukru.caglayan@kayapinar.bel.tr," in boxes
    assert "passwordlocation=spooldir\nforcename=yes\nminpassword=4\n" in boxes
    assert "3150 =>" not in boxes, "a site phone has no mailbox"
    queues = queues_conf(PBX)
    agents = queues.split("[beyaz-masa]", 1)[1]
    assert [line for line in agents.splitlines() if line.startswith("member")] == [
        "member => PJSIP/1530", "member => PJSIP/1531", "member => PJSIP/1532",
        "member => PJSIP/1533"]  # fmt: skip


def test_secrets_are_private_and_each_file_reloads_only_its_module() -> None:
    plan = plan_pbx(PBX, SECRET, None)
    files = {item.path: item for item in plan.wanted if hasattr(item, "content")}
    pjsip = files["/etc/asterisk/pjsip.conf"]
    assert (pjsip.mode, pjsip.group, pjsip.private) == ("640", "asterisk", True)  # type: ignore[union-attr]
    assert pjsip.then == ("asterisk -rx 'module reload res_pjsip.so'",)  # type: ignore[union-attr]
    dialplan = files["/etc/asterisk/extensions.conf"]
    assert dialplan.then == ("asterisk -rx 'dialplan reload'",)  # type: ignore[union-attr]
    handover = files[HANDOVER_FILE]
    assert (
        handover.mode == "600"
        and f"2100\tperson 1001\t{voicemail_pin(SECRET, SUKRU)}" in handover.content
    )  # type: ignore[union-attr]
    pins = files["/etc/asterisk/bimkit-pins.conf"]
    assert f"\n2100 = {voicemail_pin(SECRET, SUKRU)}\n" in pins.content  # type: ignore[union-attr]
    assert (pins.mode, pins.group, pins.private) == ("640", "asterisk", True)  # type: ignore[union-attr]
    assert pins.then == (), "AST_CONFIG() reads it afresh when it changes"  # type: ignore[union-attr]
    assert "\n3150 = " not in pins.content, "a site phone has no box"  # type: ignore[union-attr]
    assert plan_pbx(PBX, SECRET, None) == plan, "the same files every run: idempotent"


def test_names_cannot_break_asterisks_files() -> None:
    assert display('Ali; Veli, "Deli"') == "Ali Veli 'Deli'"


def test_an_unknown_phone_model_or_queue_is_refused(estate_data: EstateData) -> None:
    estate_data.edit("sites/zabita.yaml", setter("phones", 0, "model", value="nokia-3310"))
    estate_data.edit("directory/people.yaml", setter("people", 0, "queues", value=["yok"]))
    problems = problems_of(estate_data.root)
    assert_reported(
        problems, "sites/zabita.yaml", "phones[0].model", "`nokia-3310` is not a phone model"
    )


def test_a_person_in_an_undefined_queue_is_refused(estate_data: EstateData) -> None:
    estate_data.edit("directory/people.yaml", setter("people", 0, "queues", value=["yok"]))
    assert_reported(problems_of(estate_data.root), "directory/people.yaml", "people[0].queues[0]",
                    "no queue `yok` in estate.yaml telephony.queues")  # fmt: skip


def test_each_phone_with_a_mac_gets_its_vendors_file_and_its_own_credential() -> None:
    plan = plan_pbx(PBX, SECRET, None, ("/srv/provisioning/cfg0011223344ff.xml",))
    files = {item.path: item for item in plan.wanted if hasattr(item, "content")}
    grandstream = files["/srv/provisioning/cfg000b82aa3001.xml"]  # zabita-tel01
    assert "<P35>3150</P35>" in grandstream.content and "<P51>40</P51>" in grandstream.content
    assert grandstream.private and grandstream.mode == "640"  # type: ignore[union-attr]
    yealink = files["/srv/provisioning/001565a10001.cfg"].content  # Şükrü Çağlayan
    assert yealink.startswith("#!version:1.0.0.1\n")
    assert f"account.1.password = {sip_password(SECRET, SUKRU)}\n" in yealink
    credential = files["/etc/nginx/bimkit-provisioning/001565a10001"].content
    assert credential.startswith("001565a10001:{SSHA}")
    site = files["/etc/nginx/sites-enabled/default"].content
    assert "location = /prov/001565a10001.cfg {\n" in site
    assert "auth_basic_user_file /etc/nginx/bimkit-provisioning/001565a10001;" in site
    # A phone that is no longer in the data loses its file.
    withdrawn = [item for item in plan.wanted if isinstance(item, Absent)]
    assert [item.path for item in withdrawn] == ["/srv/provisioning/cfg0011223344ff.xml"]


def test_the_voicemail_of_a_person_who_left_is_archived_not_deleted() -> None:
    wanted = {f"{BOXES}/{d['extension']}": d["credential"] for d in PBX["devices"]
              if d["mailbox"]}  # fmt: skip
    changes = box_changes(PBX, {**wanted, f"{BOXES}/2504": "person 1404 2504 #1"})
    assert changes.archived == [f"{BOXES}/2504"] and changes.marked == {}
    install, move, reload = changes.commands()
    assert install.endswith("/var/spool/asterisk/voicemail/archive")
    assert move == (f"mv -T -- {BOXES}/2504 /var/spool/asterisk/voicemail/archive/2504-"
                    '"$(date +%Y%m%dT%H%M%S)"')  # a link is moved, never followed
    assert reload == "asterisk -rx 'module reload app_voicemail.so'"
    assert "rm " not in " ".join(changes.commands())
    assert box_changes(PBX, wanted).commands() == [], "every box its holder's: nothing to do"


def test_a_box_of_an_earlier_holder_is_archived_before_the_new_one_uses_it() -> None:
    """The new holder neither hears the old one's messages nor meets their chosen PIN."""
    wanted = {f"{BOXES}/{d['extension']}": d["credential"] for d in PBX["devices"]
              if d["mailbox"]}  # fmt: skip
    earlier = {**wanted, f"{BOXES}/2100": "person 1404 2100 #1"}
    changes = box_changes(PBX, earlier)
    assert changes.archived == [f"{BOXES}/2100"] and changes.marked == {f"{BOXES}/2100": SUKRU}
    commands = changes.commands()
    assert commands[1].startswith(f"mv -T -- {BOXES}/2100 ")
    # Written inside the box as the asterisk user, who owns it: a link there gains nothing.
    assert commands[2].startswith("runuser -u asterisk -- sh -c ")
    assert f"> {BOXES}/2100/bimkit-holder.new && mv -f " in commands[2] and SUKRU in commands[2]
    # A box that predates the holder files is taken to be its present holder's.
    adopted = box_changes(PBX, {**wanted, f"{BOXES}/2100": ""})
    assert adopted.archived == [] and adopted.marked == {f"{BOXES}/2100": SUKRU}


def test_the_phone_before_a_new_assignment_stops_ringing_at_once() -> None:
    """A new holder, a reissued phone or an extension gone: its registration (the old phone's
    address) is dropped after the deploy, not left ringing until it expires."""
    deployed = {d["extension"]: d["credential"] for d in PBX["devices"]}
    assert stale_registrations(PBX, deployed) == []
    assert stale_registrations(PBX, {}) == [], "no record yet: nothing known to be stale"
    changed = {**deployed, 2100: "person 1001 2100 #1 (before)", 2999: "phone gone 2999 #1"}
    assert stale_registrations(PBX, changed) == [2100, 2999]
    (drop,) = drop_registrations([2100])
    assert drop == ("asterisk -rx 'database query \"DELETE FROM astdb WHERE key LIKE "
                    "'\"'\"'/registrar/contact/2100;@%'\"'\"'\"'")  # fmt: skip
    assert f"2100\t{SUKRU}\n" in holders_text(PBX)
    assert HOLDERS not in [getattr(item, "path", "") for item in plan_pbx(PBX, SECRET, None).wanted
                           ], "written after the drop, so a failed drop is tried again"  # fmt: skip


def test_an_older_ledger_than_the_one_deployed_is_refused() -> None:
    """A reverted directory/extensions.yaml would give the holder before their password back."""
    deployed = {d["extension"]: d["credential"] for d in PBX["devices"]}
    assert rolled_back(PBX, deployed) == [] and rolled_back(PBX, {}) == []
    (older,) = rolled_back(PBX, {**deployed, 2100: "person 1404 2100 #2"})
    assert older == f"2100 (person 1404 2100 #2 deployed, {SUKRU} in the data)"


def test_voicemail_is_mailed_through_the_relay_the_data_names() -> None:
    relay = {"host": "posta.kayapinar.bel.tr", "port": 25, "starttls": True}
    with_relay = {**PBX, "mail_relay": relay}
    assert "msmtp-mta" in packages(with_relay)
    [msmtprc] = [s for s in plan_pbx(with_relay, SECRET, None).wanted
                 if getattr(s, "path", "") == MSMTP_CONF]  # fmt: skip
    assert "host posta.kayapinar.bel.tr\nport 25\n" in msmtprc.content
    assert "tls on\ntls_starttls on\n" in msmtprc.content
    conf = voicemail_conf(with_relay)
    assert "mailcmd=/usr/sbin/sendmail -t\n" in conf
    assert "2100 => " in conf and ",sukru.caglayan@kayapinar.bel.tr," in conf
    plain = mail({**PBX, "mail_relay": {**relay, "starttls": False}})[0]
    assert "tls off" in getattr(plain, "content", "")
    # No relay in the data: no MTA, no mail command.
    without = {**PBX, "mail_relay": None}
    assert "msmtp-mta" not in packages(without) and mail(without) == []
    assert "mailcmd" not in voicemail_conf(without)


def test_asterisk_may_hold_the_files_a_hundred_concurrent_calls_need() -> None:
    """Found by benchmarks/pbx.py: under the default limit of 1,024 the 100th call failed."""
    [limits] = [s for s in plan_pbx(PBX, SECRET, None).wanted
                if getattr(s, "path", "") == ASTERISK_LIMITS]  # fmt: skip
    assert "[Service]\nLimitNOFILE=16384\n" in limits.content
    assert limits.then == ("systemctl daemon-reload", "systemctl restart asterisk")
