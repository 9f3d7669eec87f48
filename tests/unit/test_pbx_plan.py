"""roles/pbx: Asterisk's files from the people and site data, planned without a host."""

from __future__ import annotations

from typing import Any

from roles.managed import Absent
from roles.pbx.plan import (
    ASTERISK_LIMITS,
    HANDOVER_FILE,
    MSMTP_CONF,
    archive_commands,
    display,
    extensions_conf,
    mail,
    packages,
    pjsip_conf,
    plan_pbx,
    queues_conf,
    retired_boxes,
    sip_password,
    voicemail_conf,
    voicemail_pin,
)
from tests.conftest import EstateData, example_host_data
from tests.unit.test_validation import assert_reported, problems_of, setter

PBX: dict[str, Any] = example_host_data()["pbx1"]["pbx"]
SECRET = "test pbx secret"


def test_every_active_person_with_an_extension_and_every_site_phone_has_an_account() -> None:
    extensions = [device["extension"] for device in PBX["devices"]]
    assert 2100 in extensions and 3150 in extensions and 4150 in extensions  # people, phones
    assert 2504 not in extensions, "Ümit Kurt is inactive: no endpoint"
    conf = pjsip_conf(PBX, SECRET, None)
    auth = "[2100]\ntype=auth\nauth_type=userpass\nusername=2100\n"
    assert f"{auth}password={sip_password(SECRET, 2100)}\n" in conf
    assert "[3150](device-defaults)\ncontext=internal\n" in conf  # a site phone: no outside line
    assert "[2100](device-defaults)\ncontext=outside\n" in conf


def test_passwords_differ_per_device_and_follow_the_secret() -> None:
    assert sip_password(SECRET, 2100) != sip_password(SECRET, 2101)
    assert sip_password(SECRET, 2100) != sip_password("another secret", 2100)
    assert len(sip_password(SECRET, 2100)) == 24
    assert voicemail_pin(SECRET, 2100).isdigit() and len(voicemail_pin(SECRET, 2100)) == 6


def test_emergency_numbers_come_first_in_every_context_a_phone_dials_from() -> None:
    trunk = {"host": "10.21.16.250", "port": 5060, "username": "kayapinar",
             "numbers": ["4122290000"]}  # fmt: skip
    conf = extensions_conf({**PBX, "trunk": trunk})
    assert "exten => 112,1,NoOp(Emergency call to 112" in conf
    assert " same => n,Dial(PJSIP/112@trunk)" in conf
    for context in ("internal", "outside"):
        body = conf.split(f"[{context}]\n", 1)[1]
        assert body.startswith("include => emergency\n")
    assert "exten => _0X.,1,Dial(PJSIP/${EXTEN:1}@trunk,120)" in conf.split("[outside]")[1]
    assert "_0X." not in conf.split("[internal]")[1].split("[outside]")[0]
    inbound = conf.split("[from-trunk]\n", 1)[1]
    assert (
        "exten => 4122290000,1,Goto(ivr,s,1)" in inbound
        and "exten => 153,1,Goto(ivr,s,1)" in inbound
    )
    assert "Queue(beyaz-masa,t,,,300)" in conf


def test_voicemail_boxes_and_queue_agents_come_from_the_people() -> None:
    boxes = voicemail_conf(PBX, SECRET)
    assert (
        f"2100 => {voicemail_pin(SECRET, 2100)},Şükrü Çağlayan,sukru.caglayan@kayapinar.bel.tr,"
        in boxes
    )
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
        and f"2100\tperson 1001\t{voicemail_pin(SECRET, 2100)}" in handover.content
    )  # type: ignore[union-attr]
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
    assert f"account.1.password = {sip_password(SECRET, 2100)}\n" in yealink
    credential = files["/etc/nginx/bimkit-provisioning/001565a10001"].content
    assert credential.startswith("001565a10001:{SSHA}")
    site = files["/etc/nginx/sites-enabled/default"].content
    assert "location = /prov/001565a10001.cfg {\n" in site
    assert "auth_basic_user_file /etc/nginx/bimkit-provisioning/001565a10001;" in site
    # A phone that is no longer in the data loses its file.
    withdrawn = [item for item in plan.wanted if isinstance(item, Absent)]
    assert [item.path for item in withdrawn] == ["/srv/provisioning/cfg0011223344ff.xml"]


def test_the_voicemail_of_a_person_who_left_is_archived_not_deleted() -> None:
    present = ["/var/spool/asterisk/voicemail/default/2100",
               "/var/spool/asterisk/voicemail/default/2504"]  # fmt: skip
    assert retired_boxes(PBX, present) == ["/var/spool/asterisk/voicemail/default/2504"]
    install, move = archive_commands(["/var/spool/asterisk/voicemail/default/2504"])
    assert install.endswith("/var/spool/asterisk/voicemail/archive")
    assert move.startswith("mv /var/spool/asterisk/voicemail/default/2504 "
                           "/var/spool/asterisk/voicemail/archive/2504-")  # fmt: skip
    assert "rm " not in install + move


def test_voicemail_is_mailed_through_the_relay_the_data_names() -> None:
    relay = {"host": "posta.kayapinar.bel.tr", "port": 25, "starttls": True}
    with_relay = {**PBX, "mail_relay": relay}
    assert "msmtp-mta" in packages(with_relay)
    [msmtprc] = [s for s in plan_pbx(with_relay, SECRET, None).wanted
                 if getattr(s, "path", "") == MSMTP_CONF]  # fmt: skip
    assert "host posta.kayapinar.bel.tr\nport 25\n" in msmtprc.content
    assert "tls on\ntls_starttls on\n" in msmtprc.content
    conf = voicemail_conf(with_relay, SECRET)
    assert "mailcmd=/usr/sbin/sendmail -t\n" in conf
    assert "2100 => " in conf and ",sukru.caglayan@kayapinar.bel.tr," in conf
    plain = mail({**PBX, "mail_relay": {**relay, "starttls": False}})[0]
    assert "tls off" in getattr(plain, "content", "")
    # No relay in the data: no MTA, no mail command.
    without = {**PBX, "mail_relay": None}
    assert "msmtp-mta" not in packages(without) and mail(without) == []
    assert "mailcmd" not in voicemail_conf(without, SECRET)


def test_asterisk_may_hold_the_files_a_hundred_concurrent_calls_need() -> None:
    """Found by benchmarks/pbx.py: under the default limit of 1,024 the 100th call failed."""
    [limits] = [s for s in plan_pbx(PBX, SECRET, None).wanted
                if getattr(s, "path", "") == ASTERISK_LIMITS]  # fmt: skip
    assert "[Service]\nLimitNOFILE=16384\n" in limits.content
    assert limits.then == ("systemctl daemon-reload", "systemctl restart asterisk")
