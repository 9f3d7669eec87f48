"""The IP PBX on the lab: real Asterisk 22 on pbx1 (a Debian unstable machine), real SIP
clients (SIPp, Debian's `sip-tester`) on workstations at two sites."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bimkit.lab import mail_sink
from bimkit.lab.state import LabPaths
from bimkit.model.estate import Estate
from bimkit.model.telephony import sip_devices
from bimkit.sites import copy_estate_data
from roles.pbx.plan import plain_mac, provisioning_password, sip_password
from tests.conftest import REPO
from tests.lab.conftest import BIN, DeployTotals, bimkit, lab_secret_values, run
from tests.lab.test_backups import ESTATE, on

PBX = str(ESTATE.hosts["pbx1"].address)
SCENARIOS = [*Path(__file__).with_name("sipp").glob("*.xml"), REPO / "dr/drill/checks/call.xml"]
"""SIPp scenarios; the drill's sandbox places the same call as the phones do."""
CALLER, CALLER_HOST = 2100, "merkez-ws01"  # Şükrü Çağlayan
CALLEE, CALLEE_HOST = 3150, "zabita-ws01"  # the Zabıta entrance-desk phone: no outside line
AGENT, AGENT_HOST = 1531, "merkez-ws02"  # Rojda Baran, a Beyaz Masa agent
VOICEMAIL_BOX = 2102  # Gülşen Yıldırım: no test registers her phone
TRUNK_HOST = "zabita-ws02"  # stands in for the operator's SIP server
TRUNK = str(ESTATE.hosts[TRUNK_HOST].address)


def password(extension: int, estate: Estate = ESTATE) -> str:
    """The SIP password of the phone with `extension`, as the data in `estate` assigns it."""
    device = next(d for d in sip_devices(estate) if d.extension == extension)
    assert device.credential, f"{extension} is not recorded in directory/extensions.yaml"
    return sip_password(lab_secret_values()["pbx_secret"], device.credential)


@pytest.fixture(scope="module")
def phones(first_deploy: DeployTotals, lab: LabPaths) -> Iterator[None]:
    """SIPp on two workstations at two sites, with this test's scenarios."""
    for host in (CALLER_HOST, CALLEE_HOST, AGENT_HOST, TRUNK_HOST):
        install = "apt-get install -y -qq --no-install-recommends sip-tester curl tcpdump"
        on(host, "command -v sipp curl tcpdump >/dev/null || "
                 f"DEBIAN_FRONTEND=noninteractive {install} >/dev/null")  # fmt: skip
        for scenario in SCENARIOS:
            on(host, f"mkdir -p /root/sipp && cat > /root/sipp/{scenario.name} <<'EOF'\n"
                     f"{scenario.read_text()}EOF")  # fmt: skip
    yield
    for host in (CALLER_HOST, CALLEE_HOST, AGENT_HOST, TRUNK_HOST):
        on(host, "pkill -x sipp; pkill -x tcpdump; true")


def deploy_pbx(data: Path = REPO, **secrets: str) -> None:
    """`deploys/pbx.py` alone, with the data in `data`; secrets as BIMKIT_<NAME>."""
    run_deploy(data, **secrets)


def run_deploy(
    data: Path = REPO, check: bool = True, **secrets: str
) -> subprocess.CompletedProcess[str]:
    env = {"BIMKIT_LAB": "1", "BIMKIT_DATA": str(data)}
    env |= {f"BIMKIT_{name.upper()}": value for name, value in secrets.items()}
    return run(str(BIN / "pyinfra"), "inventory.py", "deploys/pbx.py", "-y", env=env,
               check=check)  # fmt: skip


def edited_estate(folder: Path, file: str, change: Callable[[Any], None]) -> Path:
    """A copy of the example data in `folder`, with `change` made to `file`."""
    folder.mkdir(parents=True)
    copy_estate_data(REPO, folder)
    return edit_file(folder, file, change)


def edit_file(folder: Path, file: str, change: Callable[[Any], None]) -> Path:
    document = yaml.safe_load((folder / file).read_text())
    change(document)
    (folder / file).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return folder


def add_trunk(document: Any) -> None:
    """estate.yaml: a trunk to a SIPp "operator" on a lab machine (IP-authenticated)."""
    trunk = {"host": TRUNK, "port": 5090, "username": "kayapinar",
             "numbers": ["4122290000"], "registration": False}  # fmt: skip
    document["telephony"] = {"trunk": trunk}


def answer_in_background(host: str, port: int, folder: str) -> None:
    """A phone that answers every call on `port` for a minute (SIPp's own background mode),
    logging every message in /root/sipp/FOLDER. `-aa` answers the PBX's voicemail
    notifications (NOTIFY) as a phone does."""
    on(host, f"rm -rf /root/sipp/{folder} && mkdir -p /root/sipp/{folder} && "
             f"cd /root/sipp/{folder} && sipp -sn uas -aa -p {port} -nostdin "
             "-timeout 60s -trace_msg -bg >/dev/null 2>&1 || true")  # fmt: skip


def answered(host: str, folder: str, seconds: float = 30) -> bool:
    """The background phone in FOLDER got a call, answered it, and the PBX hung it up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = on(host, f"cat /root/sipp/{folder}/uas_*_messages.log 2>/dev/null || true")
        if "\nINVITE sip:" in log and "\nBYE sip:" in log:
            return True
        time.sleep(1)
    return False


def sipp(host: str, scenario: str, service: int | str, user: int, secret: str, port: int,
         *extra: str, talk_ms: int = 1000, timeout: int = 30) -> tuple[int, str]:  # fmt: skip
    """One SIPp run of a scenario to the PBX as phone USER; its exit status and errors.
    A call has two turns of `talk_ms`, each starting 7 s of RTP audio."""
    argv = ["sipp", "-sf", f"/root/sipp/{scenario}", PBX, "-s", str(service), "-au", str(user),
            "-ap", secret, "-p", str(port), "-m", "1", "-d", str(talk_ms), "-timeout",
            f"{timeout}s", "-timeout_error", "-trace_err", "-nostdin", *extra]  # fmt: skip
    errors = "tail -n 20 *_errors.log 2>/dev/null; rm -f *_errors.log"
    command = f"cd /root/sipp && {shlex.join(argv)} >/dev/null 2>&1; echo exit=$?; {errors}"
    output = on(host, command, check=False)
    code = int(output.split("exit=", 1)[1].split()[0])
    return code, output


def test_asterisk_runs_every_account_from_the_data(phones: None) -> None:
    shown = on("pbx1", "asterisk -rx 'pjsip show endpoints'")
    people = [m for m in ESTATE.members if m.person.active and m.person.extension]
    phones = [phone for site in ESTATE.site_phones.values() for phone in site]
    assert f"Objects found: {len(people) + len(phones)}" in shown
    assert "Endpoint:  2504" not in shown, "Ümit Kurt is inactive: no endpoint"
    assert "Endpoint:  3150" in shown and "Endpoint:  2100" in shown
    assert on("pbx1", "stat -c '%a %U %G' /etc/asterisk/pjsip.conf") == "640 root asterisk"


def capture_rtp(host: str) -> None:
    """tcpdump, in the background, of what the phone exchanges with the PBX apart from SIP."""
    on(host, f"rm -f /tmp/rtp.pcap; (setsid timeout 60 tcpdump -i any -n -U -w /tmp/rtp.pcap "
             f"'udp and host {PBX} and not port 5060' >/dev/null 2>&1 &); sleep 1")  # fmt: skip


def rtp_packets(host: str) -> tuple[int, int]:
    """Packets captured since `capture_rtp`: (from the PBX, to the PBX)."""
    on(host, "pkill -x tcpdump; sleep 0.5")

    def count(direction: str) -> int:
        return int(on(host, f"tcpdump -r /tmp/rtp.pcap -n '{direction} host {PBX}' "
                            "2>/dev/null | wc -l"))  # fmt: skip

    return count("src"), count("dst")


def test_two_phones_at_two_sites_register_and_call(phones: None) -> None:
    """The callee echoes the caller's audio (SIPp `-rtp_echo`), so each phone both sends and
    receives RTP through the PBX: 5 s of G.711 are about 160 packets; at least 50 (1.5 s of
    speech) must arrive each way, where a one-way or dead call shows none."""
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE, password(CALLEE), 5070)
    assert code == 0, output
    on(CALLEE_HOST, "cd /root/sipp && (setsid sipp -sn uas -rtp_echo -p 5070 -m 1 -nostdin "
                    "-timeout 60s >/dev/null 2>&1 &)")  # fmt: skip
    for host in (CALLER_HOST, CALLEE_HOST):
        capture_rtp(host)
    try:
        code, output = sipp(CALLER_HOST, "call.xml", CALLEE, CALLER, password(CALLER), 5080,
                            "-key", "caller", str(CALLER), talk_ms=2500)  # fmt: skip
        assert code == 0, f"the call was not answered (200 OK) and hung up cleanly:\n{output}"
    finally:
        on(CALLEE_HOST, "pkill -x sipp || true")
    for host in (CALLER_HOST, CALLEE_HOST):
        received, sent = rtp_packets(host)
        assert received >= 50 and sent >= 50, f"{host}: RTP {received} in, {sent} out"


def test_an_unanswered_call_leaves_a_voicemail_that_arrives_by_mail(
    phones: None, lab: LabPaths
) -> None:
    """Nobody answers at VOICEMAIL_BOX: the caller waits out the greeting (about 12 s) and
    speaks; the message is mailed to the owner's AD address through the relay (the lab's
    SMTP sink)."""
    owner = next(d for d in sip_devices(ESTATE) if d.extension == VOICEMAIL_BOX)
    box = f"/var/spool/asterisk/voicemail/default/{VOICEMAIL_BOX}/INBOX"
    on("pbx1", f"rm -f {box}/msg*")
    before = len(mail_sink.messages(lab))
    code, output = sipp(CALLEE_HOST, "call.xml", VOICEMAIL_BOX, CALLEE, password(CALLEE), 5078,
                        "-key", "caller", str(CALLEE), talk_ms=11_000)  # fmt: skip
    assert code == 0, f"voicemail did not answer:\n{output}"
    deadline = time.monotonic() + 30
    while len(mail_sink.messages(lab)) == before and time.monotonic() < deadline:
        time.sleep(1)
    mails = mail_sink.messages(lab)[before:]
    assert len(mails) == 1, f"{len(mails)} mails at the sink ({mail_sink.maildir(lab)})"
    assert owner.email and owner.email in mails[0]["To"]
    assert str(CALLEE) in mails[0]["Subject"]
    [recording] = list(mails[0].iter_attachments())
    assert recording.get_content_type() == "audio/x-wav"
    assert len(recording.get_content()) > 8000, "a few seconds of speech, not an empty file"
    seconds = on("pbx1", f"sed -n 's/^duration=//p' {box}/msg0000.txt")
    assert int(seconds) >= 2, f"the box kept a {seconds} s message"
    on("pbx1", f"rm -f {box}/msg*")


def test_a_deactivated_persons_phone_is_refused_after_the_next_deploy(
    phones: None, tmp_path: Path
) -> None:
    def deactivate(document: Any) -> None:
        person = next(p for p in document["people"] if p["extension"] == CALLER)
        person["active"] = False

    box = f"/var/spool/asterisk/voicemail/default/{CALLER}"
    on("pbx1", f"install -d -o asterisk -g asterisk {box}/INBOX && "
               f"echo 'a message left for {CALLER}' > {box}/INBOX/msg0000.txt")  # fmt: skip
    deploy_pbx(edited_estate(tmp_path / "estate", "directory/people.yaml", deactivate))
    try:
        code, output = sipp(CALLER_HOST, "register.xml", CALLER, CALLER, password(CALLER), 5072)
        assert code != 0 and ("401" in output or "403" in output), output
        # The box is archived, not deleted.
        archived = on("pbx1", f"cat /var/spool/asterisk/voicemail/archive/{CALLER}-*/INBOX/*")
        assert archived == f"a message left for {CALLER}"
        assert on("pbx1", f"test -e {box} && echo left || echo gone") == "gone"
    finally:
        deploy_pbx()
        on("pbx1", "rm -rf /var/spool/asterisk/voicemail/archive")
    code, output = sipp(CALLER_HOST, "register.xml", CALLER, CALLER, password(CALLER), 5072)
    assert code == 0, output


@pytest.fixture
def trunk(phones: None, tmp_path: Path) -> Iterator[None]:
    """The PBX with a trunk to a SIPp "operator" on a lab machine (IP-authenticated)."""
    data = edited_estate(tmp_path / "estate", "estate.yaml", add_trunk)
    deploy_pbx(data, sip_trunk_password="lab-trunk-password")
    try:
        yield
    finally:
        on(TRUNK_HOST, "pkill -x sipp || true")
        deploy_pbx()


def test_a_call_to_153_from_outside_reaches_a_queue_agent(trunk: None) -> None:
    code, output = sipp(AGENT_HOST, "register.xml", AGENT, AGENT, password(AGENT), 5076)
    assert code == 0, output
    answer_in_background(AGENT_HOST, 5076, "agent")
    result = on(TRUNK_HOST, f"cd /root/sipp && sipp -sf trunk_call.xml {PBX} -s 153 -p 5090 "
                            "-m 1 -timeout 40s -timeout_error -nostdin >/dev/null 2>&1; "
                            "echo exit=$?", check=False)  # fmt: skip
    assert result.endswith("exit=0"), result
    assert answered(AGENT_HOST, "agent"), "the Beyaz Masa agent never got the call"
    # The call centre's statistics: in Asterisk, and every event in the log archive.
    state = json.loads(bimkit("pbx", "status", "--json", env={"BIMKIT_LAB": "1"},
                              check=False).stdout)  # fmt: skip
    queue = next(queue for queue in state["queues"] if queue["name"] == "beyaz-masa")
    assert queue["answered"] >= 1, queue
    connected = f"|beyaz-masa|PJSIP/{AGENT}|CONNECT|"
    deadline = time.monotonic() + 30
    archived = ""
    while connected not in archived and time.monotonic() < deadline:
        time.sleep(1)
        archived = on("log1", "grep -h asterisk-queue /var/log/remote/*/pbx1.log || true")
    assert connected in archived, f"no CONNECT to {AGENT} in log1's archive:\n{archived[-2000:]}"


def test_a_wrong_password_is_refused(phones: None) -> None:
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE, "not-the-password", 5071)
    assert code != 0
    assert "403" in output or "401" in output, output


def test_pbx_status_counts_registrations_per_site_and_fails_below_the_threshold(
    phones: None,
) -> None:
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE, password(CALLEE), 5077)
    assert code == 0, output
    env = {"BIMKIT_LAB": "1", "COLUMNS": "200"}
    result = bimkit("pbx", "status", "--json", env=env, check=False)
    assert result.returncode == 1, "most phones of the estate are not registered"
    state = json.loads(result.stdout)
    zabita = next(group for group in state["registrations"] if group["group"] == "zabita")
    assert zabita["registered"] == [CALLEE] and zabita["missing"] == []
    beyaz_masa = next(queue for queue in state["queues"] if queue["name"] == "beyaz-masa")
    assert set(beyaz_masa["members"]) == {"1530", "1531", "1532", "1533"}
    passing = bimkit("pbx", "status", "--min-registered", "1", env=env, check=False)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Registrations on pbx1" in passing.stdout and "zabita" in passing.stdout


def test_a_phone_fetches_its_own_provisioning_file_and_no_other(phones: None) -> None:
    """What a Grandstream (zabita-tel01) and a Yealink (Şükrü Çağlayan's) phone fetch at the
    URL DHCP option 66 gives, each with its own credential."""
    secret = lab_secret_values()["pbx_secret"]
    grandstream, yealink = "00:0b:82:aa:30:01", "00:15:65:a1:00:01"

    credentials = {plain_mac(device.mac): device.credential or ""
                   for device in sip_devices(ESTATE) if device.mac}  # fmt: skip

    def fetch(file: str, mac: str | None) -> str:
        user = ""
        if mac:
            password = provisioning_password(secret, mac, credentials[plain_mac(mac)])
            user = f"-u {plain_mac(mac)}:{password} "
        curl = f"curl -s {user}-o /tmp/prov -w '%{{http_code}}' http://{PBX}/prov/{file}"
        return on(CALLEE_HOST, f"{curl}; echo; cat /tmp/prov", check=False)

    own = fetch("cfg000b82aa3001.xml", grandstream)
    assert own.startswith("200"), own
    assert "<P35>3150</P35>" in own and f"<P34>{password(CALLEE)}</P34>" in own
    assert "<P51>40</P51>" in own, "the voice VLAN"
    assert fetch("001565a10001.cfg", yealink).startswith("200")
    assert "account.1.user_name = 2100" in fetch("001565a10001.cfg", yealink)
    assert fetch("001565a10001.cfg", grandstream).startswith("401"), "another phone's file"
    assert fetch("001565a10001.cfg", None).startswith("401")
    assert fetch("", None).startswith("403")
