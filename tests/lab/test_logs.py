"""Law 5651 on the lab: DHCP from the DCs' Kea pair, logs collected over TLS, sealed into a
chain copied to the DR host, provable, and attacked.

Real parts throughout: Kea 2.6 on dc1 and dc2, dnsmasq relaying at the box
(each site's gateway), busybox udhcpc as the client, rsyslog with GnuTLS on
every host and on log1, SSH to dr1's add-only store, and the lab's RFC 3161
TSA (`openssl ts -reply`, checking Kamu SM's identity header as Kamu SM
would). Kamu SM itself cannot be reached from here: the lab's TSA stands in.
"""

from __future__ import annotations

import datetime
import html
import ipaddress
import json
import re
import secrets
import shlex
import shutil
import socket
import struct
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bimkit.lab import seed, tsa
from bimkit.lab.plan import bridge_name
from bimkit.lab.state import LabPaths, LabState
from bimkit.sites import copy_estate_data
from dr.config import TimeStampAuthority
from dr.logs.timestamp import TsaUnreachable, stamp
from dr.paths import LOG_ARCHIVE, SEAL_STORES
from tests.conftest import REPO
from tests.lab.conftest import BIN, DeployTotals, bimkit, run, totals
from tests.lab.test_backups import ESTATE, dr, on

SITE = ESTATE.sites["zabita"]
DATA_VLAN, VOICE_VLAN = SITE.vlans["data"], SITE.vlans["voice"]  # type: ignore[index]
DC1, DC2 = (str(ESTATE.hosts[name].address) for name in ("dc1", "dc2"))
LOG1 = str(ESTATE.hosts["log1"].address)
SITE_HOSTS = {name: str(host.address) for name, host in ESTATE.hosts.items()}
CLIENT_MAC = "52:54:00:51:56:51"
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] && echo "BOUND ip=$ip serverid=$serverid router=$router \
dns=$(echo $dns | tr ' ' ,) domain=$domain"
exit 0
"""


def logs(*arguments: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return bimkit("logs", *arguments, env={"BIMKIT_LAB": "1", "COLUMNS": "300"}, check=check)


def today() -> str:
    return on("log1", "date +%F")


def yesterday() -> str:
    return on("log1", "date -d yesterday +%F")


@dataclass(frozen=True)
class Netns:
    name: str

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.name, *argv, check=check)


MakeNetns = Callable[..., "Netns"]


@pytest.fixture
def netns_on_bridge(lab: LabPaths) -> Iterator[MakeNetns]:
    """Make test machines on a site's bridge (named like the lab's, so `lab down` removes
    them too); each is removed after the test, also when it fails."""
    made: list[str] = []

    def make(site_number: int, mac: str, address: str | None = None) -> Netns:
        name = f"bk-test{len(made)}"
        link = f"bkvtest{len(made)}"
        made.append(name)
        run("ip", "netns", "add", name)
        run("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", name)
        run("ip", "link", "set", link, "master", bridge_name(site_number), "up")
        run("ip", "-n", name, "link", "set", "eth0", "address", mac, "up")
        run("ip", "-n", name, "link", "set", "lo", "up")
        if address:
            run("ip", "-n", name, "address", "add", address, "dev", "eth0")
        return Netns(name)

    try:
        yield make
    finally:
        for name in made:
            run("ip", "netns", "delete", name, check=False)


def lease(client: Netns, script: Path, hostname: str = "zabita-pc7") -> dict[str, str]:
    """One DHCP exchange with busybox udhcpc; what the client was bound to ({} if nothing)."""
    result = client.run("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "3", "-T", "2",
                        "-s", str(script), "-x", f"hostname:{hostname}", check=False)  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("BOUND "):
            return dict(field.split("=", 1) for field in line.split()[1:] if "=" in field)
    return {}


@pytest.fixture
def udhcpc_script(tmp_path: Path) -> Path:
    script = tmp_path / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    return script


def test_a_client_on_a_data_vlan_gets_a_lease_from_the_primary_dc_logged_on_log1(
    first_deploy: DeployTotals, netns_on_bridge: MakeNetns, udhcpc_script: Path
) -> None:
    client = netns_on_bridge(SITE.number, CLIENT_MAC)
    # A Kea pair restarted by the deploy first syncs (seconds); a client retries meanwhile.
    deadline = time.monotonic() + 60
    while not (bound := lease(client, udhcpc_script)):
        assert time.monotonic() < deadline, "no lease within 60 s"
        time.sleep(2)
    assert bound.get("serverid") == DC1, bound
    assert bound["router"] == str(DATA_VLAN.gateway)
    assert bound["dns"].split(",") == [DC1, DC2] and bound["domain"] == ESTATE.config.realm
    address = bound["ip"]
    assert DATA_VLAN.subnet.network_address + 256 < ipaddress.ip_address(address), "in the pool"
    # The lease event reaches the log server within a minute, on the lease channel alone.
    deadline = time.monotonic() + 60
    record = f"address={address} mac={CLIENT_MAC} hostname=zabita-pc7"
    leases = f"{LOG_ARCHIVE}/{today()}/dc1.leases"
    while record not in on("log1", f"cat {leases} 2>/dev/null || true"):
        assert time.monotonic() < deadline, f"no `{record}` in {leases} after 60 s"
        time.sleep(2)
    assert record not in on("log1", f"cat {LOG_ARCHIVE}/{today()}/dc1.log")
    # ... and `bimkit logs search` answers who had the address at that moment.
    moment = on("log1", "date +%FT%T")
    found = logs("search", "--ip", address, "--at", moment, "--json")
    assert found.returncode == 0, found.stdout + found.stderr
    (who,) = json.loads(found.stdout)["leases"]
    assert (who["mac"], who["hostname"], who["server"]) == (CLIENT_MAC, "zabita-pc7", "dc1")
    nobody = logs("search", "--ip", str(DATA_VLAN.subnet.broadcast_address - 2), "--at", moment)
    assert nobody.returncode == 1 and "no lease of" in nobody.stdout


def test_with_the_primary_stopped_the_standby_serves(
    first_deploy: DeployTotals, netns_on_bridge: MakeNetns, udhcpc_script: Path
) -> None:
    client = netns_on_bridge(SITE.number, "52:54:00:51:56:52")
    on("dc1", "systemctl stop kea-dhcp4-server")
    try:
        deadline = time.monotonic() + 90
        while (bound := lease(client, udhcpc_script)).get("serverid") != DC2:
            assert time.monotonic() < deadline, f"dc2 did not take over: {bound}"
            time.sleep(3)
        assert bound["router"] == str(DATA_VLAN.gateway)
        # The standby's leases answer too, from its own channel.
        deadline = time.monotonic() + 60
        while (found := logs("search", "--ip", bound["ip"], "--at", on("log1", "date +%FT%T"),
                             "--json")).returncode != 0:  # fmt: skip
            assert time.monotonic() < deadline, found.stdout + found.stderr
            time.sleep(2)
        assert {lease["server"] for lease in json.loads(found.stdout)["leases"]} == {"dc2"}
    finally:
        on("dc1", "systemctl start kea-dhcp4-server")
    # Back in service, dc1 serves again (it takes the leases dc2 gave meanwhile).
    deadline = time.monotonic() + 120
    while (bound := lease(client, udhcpc_script)).get("serverid") != DC1:
        assert time.monotonic() < deadline, f"dc1 did not take back over: {bound}"
        time.sleep(3)


def discover(giaddr: str, mac: str) -> bytes:
    """A DHCPDISCOVER as a relay agent at `giaddr` forwards it (RFC 2131, options RFC 2132)."""
    chaddr = bytes.fromhex(mac.replace(":", "")).ljust(16, b"\0")
    header = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        1, 1, 6, 1, secrets.randbits(32), 0, 0,
        bytes(4), bytes(4), bytes(4), socket.inet_aton(giaddr), chaddr, b"", b"",
    )  # fmt: skip
    options = bytes([53, 1, 1, 55, 4, 1, 3, 6, 66, 255])
    return header + b"\x63\x82\x53\x63" + options


def options_of(reply: bytes) -> dict[int, bytes]:
    found, index = {}, 240
    while index < len(reply) and reply[index] != 255:
        if reply[index] == 0:
            index += 1
            continue
        code, length = reply[index], reply[index + 1]
        found[code] = reply[index + 2 : index + 2 + length]
        index += 2 + length
    return found


def test_phones_on_a_voice_vlan_get_the_provisioning_url(
    first_deploy: DeployTotals, netns_on_bridge: MakeNetns
) -> None:
    """The lab's bridges are flat (no 802.1Q), so this test is the voice VLAN's relay agent:
    it forwards a phone's DISCOVER with a voice-VLAN giaddr to dc1, as the site switch would."""
    agent_address = str(VOICE_VLAN.subnet.broadcast_address - 1)
    agent = netns_on_bridge(SITE.number, "52:54:00:51:56:53",
                            f"{agent_address}/{VOICE_VLAN.subnet.prefixlen}")  # fmt: skip
    agent.run("ip", "route", "add", "default", "via", str(VOICE_VLAN.gateway))
    probe = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        f"s.bind(({agent_address!r},67)); s.settimeout(10)\n"
        f"s.sendto(bytes.fromhex(sys.argv[1]),({DC1!r},67))\n"
        "print(s.recvfrom(2048)[0].hex())\n"
    )
    result = agent.run("python3", "-c", probe, discover(agent_address, "80:5e:c0:00:00:01").hex())
    options = options_of(bytes.fromhex(result.stdout.strip()))
    assert options[53] == b"\x02", "an OFFER"
    assert options[66].decode() == f"http://{ESTATE.hosts['pbx1'].address}/prov/"
    assert socket.inet_ntoa(options[3]) == str(VOICE_VLAN.gateway)


def test_hosts_forward_over_tls_into_files_named_by_the_sender(first_deploy: DeployTotals) -> None:
    marker = f"bimkit-test-{secrets.token_hex(4)}"
    on("fs1", f"logger -t bimkit-test {marker}")
    path = f"{LOG_ARCHIVE}/{today()}/fs1.log"
    deadline = time.monotonic() + 30
    while marker not in on("log1", f"cat {path}"):
        assert time.monotonic() < deadline, f"{marker} did not reach {path}"
        time.sleep(1)
    # Written by the collector only; the readers' group may read; nobody else.
    assert on("log1", f"stat -c '%a %U %G' {path} {LOG_ARCHIVE}/{today()}").splitlines() == [
        "640 root log-readers", "750 root log-readers"]  # fmt: skip
    # Without a certificate of the estate CA the collector does not take a message.
    plain = on("fs1", f"logger -n {LOG1} -P 6514 -T -t bimkit-test plain-{marker}; echo $?",
               check=False)  # fmt: skip
    time.sleep(3)
    assert f"plain-{marker}" not in on("log1", f"cat {path}"), plain


def test_a_host_outside_the_management_subnet_cannot_inject_as_a_network_device(
    first_deploy: DeployTotals, netns_on_bridge: MakeNetns
) -> None:
    switch = ESTATE.hosts["core-sw1"]
    forged, genuine = (f"bimkit-{kind}-{secrets.token_hex(4)}" for kind in ("forged", "genuine"))
    # fs1 (servers VLAN) claims to be the core switch over plain syslog.
    on("fs1", f"logger -n {LOG1} -P 514 -d -t core-sw1 {forged}")
    # The switch itself, from its management address (a test machine stands in for it).
    device = netns_on_bridge(ESTATE.sites[switch.site].number, "52:54:00:51:56:54",
                             f"{switch.address}/{switch.vlan.subnet.prefixlen}")  # fmt: skip
    device.run("ip", "route", "add", "default", "via", str(switch.vlan.gateway))
    send = ("import socket,sys; socket.socket(socket.AF_INET,socket.SOCK_DGRAM)"
            f".sendto(sys.argv[1].encode(),({LOG1!r},514))")  # fmt: skip
    device.run("python3", "-c", send, f"<189>%LINK-3-UPDOWN: Gi1/0/7 up {genuine}")
    path = f"{LOG_ARCHIVE}/{today()}/core-sw1.log"
    deadline = time.monotonic() + 30
    while genuine not in on("log1", f"cat {path} 2>/dev/null || true"):
        assert time.monotonic() < deadline, f"the switch's message did not reach {path}"
        time.sleep(1)
    everything = on("log1", f"grep -rl {forged} {LOG_ARCHIVE}/{today()} || true")
    assert everything == "", f"the forged message was archived in {everything}"


def test_closed_days_are_sealed_into_a_chain_copied_to_the_dr_host(
    first_deploy: DeployTotals,
) -> None:
    on("log1", "systemctl start bimkit-logs-seal.service")
    result = logs("verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    verified = json.loads(result.stdout)
    days = verified["days"]
    assert len(days) >= 60 and all(v["ok"] and v["files"] > 0 for v in days)
    assert days[-1]["day"] == yesterday() and days[-1]["stamped_at"].endswith("+03:00")
    assert verified["records"] == verified["records_on_dr_host"] >= 61
    copied = on("dr1", f"ls {SEAL_STORES}/log1 | wc -l")
    assert int(copied) >= 2 * verified["records"], "records and tokens on the DR host"
    status = logs("status", "--json")
    assert status.returncode == 0, status.stdout
    state = json.loads(status.stdout)
    assert state["last_sealed_day"] == yesterday() and state["unsealed_days"] == []
    assert state["last_sealed_by_source"]["dc1"] == yesterday()
    assert state["last_sealed_by_source"]["dc1 (leases)"] == yesterday()


# -- attacks on the evidence ----------------------------------------------------------------

SAVED_ARCHIVE, SAVED_COPY = "/var/tmp/bimkit-test-archive", "/var/tmp/bimkit-test-seals"
RESEAL = """
import datetime, sys
sys.path.insert(0, "/usr/local/lib/bimkit/current")
from dr.config import LogsConfig, load
from dr.logs.jobs import Archive, copy_off, locked, seal_day
archive = Archive.from_config(load(LogsConfig, "/etc/bimkit/logs.json"))
day = datetime.date.fromisoformat(sys.argv[1])
with locked(archive) as chain:
    print(seal_day(archive, chain, day, archive.root / sys.argv[1],
                   datetime.datetime.now(datetime.UTC)))
    print(copy_off(archive))
"""


@pytest.fixture
def chain_saved(first_deploy: DeployTotals) -> Iterator[None]:
    """log1's closed days and chain, and dr1's copy, put back as they were after the test
    (the copy as the DR host's root may; log1's key cannot). The seal timer waits meanwhile."""
    on("log1", "systemctl stop bimkit-logs-seal.timer && systemctl start bimkit-logs-seal.service")
    on("log1", f"rm -rf {SAVED_ARCHIVE} && mkdir {SAVED_ARCHIVE} && cd {LOG_ARCHIVE} && "
               f"for d in *; do [ \"$d\" = \"$(date +%F)\" ] || cp -a \"$d\" {SAVED_ARCHIVE}/; "
               "done")  # fmt: skip
    on("dr1", f"rm -rf {SAVED_COPY} && cp -a {SEAL_STORES}/log1 {SAVED_COPY}")
    try:
        yield
    finally:
        on("log1", f"cd {LOG_ARCHIVE} && for d in *; do [ \"$d\" = \"$(date +%F)\" ] || "
                   f"rm -rf \"$d\"; done && cp -a {SAVED_ARCHIVE}/. {LOG_ARCHIVE}/ && "
                   f"rm -rf {SAVED_ARCHIVE} && systemctl start bimkit-logs-seal.timer")  # fmt: skip
        on("dr1", f"rm -rf {SEAL_STORES}/log1 && mv {SAVED_COPY} {SEAL_STORES}/log1")
        assert logs("verify").returncode == 0, "the archive is back as it was"


def verdicts() -> tuple[int, dict[str, dict[str, Any]], list[str]]:
    result = logs("verify", "--json")
    found = json.loads(result.stdout)
    return result.returncode, {v["day"]: v for v in found["days"]}, found["chain_problems"]


def local_day(days_ago: int) -> str:
    return on("log1", f"date -d '{days_ago} days ago' +%F")


def test_rewritten_copied_deleted_and_altered_days_are_named_by_verify_and_the_drill(
    backed_up_after: None, chain_saved: None
) -> None:
    """Root on log1 against the evidence. Before the chain, a day copied over another and
    the deleted oldest day passed `verify`, and a rewritten day sealed again passed too."""
    days = on("log1", f"ls {LOG_ARCHIVE} | grep -E '^[0-9]{{4}}-' | sort").split()
    oldest, resealed, copied, source, flipped = (
        days[0], local_day(5), local_day(10), local_day(11), yesterday())
    on("log1", f"chmod u+w {LOG_ARCHIVE}/{resealed}/dc1.log {LOG_ARCHIVE}/{resealed}/SHA256SUMS && "
               f"echo 'nothing happened that day' > {LOG_ARCHIVE}/{resealed}/dc1.log")  # fmt: skip
    said = on("log1", f"python3 -I -c {shlex.quote(RESEAL)} {resealed}")
    assert "outcome='sealed'" in said and "error=''" in said, said  # copied to dr1 as made
    on("log1", f"rm -rf {LOG_ARCHIVE}/{copied} && cp -a {LOG_ARCHIVE}/{source} "
               f"{LOG_ARCHIVE}/{copied}")  # fmt: skip
    on("log1", f"chmod u+w {LOG_ARCHIVE}/{oldest} && rm -rf {LOG_ARCHIVE}/{oldest}")
    path = f"{LOG_ARCHIVE}/{flipped}/fs1.log"
    flip = ("import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[10]^=1; "
            "open(p,'wb').write(b)")  # fmt: skip
    on("log1", f"chmod u+w {path} && python3 -c {shlex.quote(flip)} {path}")
    code, found, chain = verdicts()
    assert code == 1 and chain == []
    assert f"deleted: {LOG_ARCHIVE}/{oldest} is gone" in found[oldest]["problems"][0]
    assert (f"{LOG_ARCHIVE}/{copied}/SHA256SUMS is day {source}'s sealed manifest: another day "
            "copied over this one") in found[copied]["problems"]  # fmt: skip
    problems = " | ".join(found[resealed]["problems"])
    assert "sealed 2 times" in problems and "rewritten and sealed again?" in problems
    assert "hours after the day ended, with no reason recorded at the time" in problems
    assert f"altered: {path}" in found[flipped]["problems"]
    assert sum(not v["ok"] for v in found.values()) == 4
    code, out, err = dr("backup", "--host", "log1")
    assert code == 0, out + err
    drilled = bimkit("dr", "drill", "--json", "--service", "log1", env={"BIMKIT_LAB": "1"},
                     check=False, timeout=900)  # fmt: skip
    assert drilled.returncode == 1, drilled.stdout
    (row,) = json.loads(drilled.stdout)["results"]
    seals = next(check for check in row["checks"] if check["name"] == "log_seals")
    assert not seals["ok"] and seals["args"]["failed"] == 4, seals
    for day in (oldest, copied, resealed, flipped):
        assert f"{day}: " in seals["detail"], (day, seals["detail"])


@pytest.fixture
def backed_up_after() -> Iterator[None]:
    """The next drill must find a snapshot of the archive as it is again."""
    try:
        yield
    finally:
        dr("backup", "--host", "log1")


def forget_yesterdays_seal() -> str:
    """As if yesterday had never been sealed: its record gone on both sides (as root)."""
    day = yesterday()
    on("log1", f"rm -f {LOG_ARCHIVE}/chain/*-seal-{day}.* {LOG_ARCHIVE}/{day}/SHA256SUMS")
    on("dr1", f"rm -f {SEAL_STORES}/log1/*-seal-{day}.*")
    return day


def test_an_unacknowledged_gap_fails_and_an_acknowledged_one_passes(chain_saved: None) -> None:
    day = forget_yesterdays_seal()
    on("log1", f"rm -rf {LOG_ARCHIVE}/{day}")  # log1 was off: nothing of that day arrived
    code, found, _ = verdicts()
    assert code == 1
    assert found[day]["problems"] == [
        f"missing: no folder {LOG_ARCHIVE}/{day}, no seal and no acknowledgement"]
    assert json.loads(logs("status", "--json").stdout)["missing_days"] == [day]
    said = logs("acknowledge", day, "--reason", "log1 elektrik kesintisinde kapalıydı",
                "--by", "ayse.yilmaz")  # fmt: skip
    assert said.returncode == 0 and f"{day}: acknowledged by ayse.yilmaz" in said.stdout, said
    code, found, _ = verdicts()
    assert code == 0
    assert (found[day]["state"], found[day]["note"]) == (
        "acknowledged", "acknowledged by ayse.yilmaz: log1 elektrik kesintisinde kapalıydı")
    again = logs("acknowledge", day, "--reason", "again")
    assert again.returncode == 1 and "acknowledged already" in again.stdout + again.stderr


def test_an_unreachable_tsa_leaves_the_day_unsealed_until_a_later_run(
    chain_saved: None, lab: LabPaths
) -> None:
    day = forget_yesterdays_seal()
    gateway = LabState.load(lab).machines["log1"].gateway  # type: ignore[union-attr]
    tsa.stop(lab)
    try:
        started = on("log1", "systemctl start bimkit-logs-seal.service; echo exit=$?", check=False)
        assert started.endswith("exit=1"), started
        journal = on("log1", "journalctl -u bimkit-logs-seal.service --no-pager -o cat | tail -20")
        assert f"{day}: unsealed" in journal and "unreachable" in journal, journal
        status = logs("status", "--json")
        assert status.returncode == 1 and json.loads(status.stdout)["unsealed_days"] == [day]
        # The admins are told, as of a failed backup.
        told = "journalctl -u bimkit-logs-seal-failed.service --no-pager -o cat"
        deadline = time.monotonic() + 30
        while "bimkit: log-sealing on log1 FAILED" not in on("log1", told):
            assert time.monotonic() < deadline, on("log1", told)
            time.sleep(1)
    finally:
        tsa.ensure_running(lab, gateway, tsa.lab_account(lab))
        on("log1", "systemctl reset-failed bimkit-logs-seal.service", check=False)
    assert f"{day}: sealed" in on("log1", "bimkit-logs seal")
    assert logs("status").returncode == 0
    code, found, _ = verdicts()
    assert code == 0 and found[day]["note"].startswith("1 seal attempts failed from ")


def test_the_tsa_rolls_over_to_a_new_ca_and_old_days_still_verify(
    chain_saved: None, lab: LabPaths
) -> None:
    """The lab TSA gets a new CA and certificate and the data names only the new CA: days
    stamped under the old one verify as they were valid then, from the chain the archive
    kept; a new seal is made under the new one."""
    folder = tsa.tsa_folder(lab)
    kept = folder.with_name("tsa-before-rollover")
    shutil.copytree(folder, kept)
    old_record = on("log1", f"ls {LOG_ARCHIVE}/chain | grep -m1 -- '-seal-.*\\.txt$'")
    try:
        for name in ("ca.pem", "tsa.pem", "tsa.key", "tsa.cnf", "serial"):
            (folder / name).unlink()
        tsa.make_tsa(folder)  # the running responder reads its folder on every request
        deployed = run(str(BIN / "pyinfra"), "inventory.py", "deploys/log_servers.py",
                       "--limit", "log1", "-y", env={"BIMKIT_LAB": "1"})  # fmt: skip
        assert totals(deployed.stdout + deployed.stderr).changed >= 1, "the new CA file"
        base = f"{LOG_ARCHIVE}/chain/{old_record.removesuffix('.txt')}"
        plain = on("log1", f"openssl ts -verify -data {base}.txt -in {base}.tsr -CAfile "
                           "/etc/bimkit/tsa-ca.pem; echo exit=$?", check=False)  # fmt: skip
        assert plain.endswith("exit=1"), "checked against today's CA alone, it fails"
        day = forget_yesterdays_seal()
        assert f"{day}: sealed" in on("log1", "bimkit-logs seal")
        result = logs("verify", "--json")
        assert result.returncode == 0, result.stdout
        assert json.loads(result.stdout)["tsa_chains"] == 2
    finally:
        shutil.rmtree(folder)
        kept.rename(folder)
        run(str(BIN / "pyinfra"), "inventory.py", "deploys/log_servers.py", "--limit", "log1",
            "-y", env={"BIMKIT_LAB": "1"})  # fmt: skip


def test_the_lab_tsa_refuses_a_wrong_identity_header(lab: LabPaths, tmp_path: Path) -> None:
    """Kamu SM's identity header, checked by the lab's TSA as Kamu SM would."""
    gateway = LabState.load(lab).machines["log1"].gateway  # type: ignore[union-attr]
    account = tsa.lab_account(lab)
    assert account is not None, "the example estate asks for Kamu SM's identity"
    record = tmp_path / "record.txt"
    record.write_text("a record\n")

    def authority(password: str | None) -> TimeStampAuthority:
        identity = None
        if password is not None:
            identity = tmp_path / "identity.json"
            identity.write_text(json.dumps({"customer_id": account.customer_id,
                                            "password": password}))  # fmt: skip
        ca = str(tsa.tsa_folder(lab) / "ca.pem")
        return TimeStampAuthority(tsa.url(gateway), ca, str(identity) if identity else None, 10)

    assert stamp(authority(account.password), record)
    with pytest.raises(TsaUnreachable, match="refused: identity refused"):
        stamp(authority("wrong-password"), record)
    with pytest.raises(TsaUnreachable, match="refused: identity header missing"):
        stamp(authority(None), record)


# -- lease records: where they come from, how far back -----------------------------------------

FORGED = "event=commit address={address} mac=de:ad:be:ef:00:0{n} hostname=forged start={start} " \
         "valid=3600 server=dc1"  # fmt: skip


def test_forged_lease_records_are_never_leases_and_status_names_their_sources(
    first_deploy: DeployTotals, netns_on_bridge: MakeNetns
) -> None:
    """Anyone who can write to syslog tries to plant a lease: any user on a workstation, an
    SSH attempt whose user name carries it, a packet spoofed from a switch's address, and
    a workstation using its own estate certificate on the lease channel."""
    address = str(DATA_VLAN.subnet.broadcast_address - 9)
    start = int(time.time())
    on("zabita-ws01", "runuser -u nobody -- logger -t bimkit-dhcp "
                      + shlex.quote(FORGED.format(address=address, n=1, start=start)))  # fmt: skip
    on("zabita-ws01", f"ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=5 "
                      f"'address={address},mac=de:ad:be:ef:00:02'@{SITE_HOSTS['zabita-ws02']} "
                      "true", check=False)  # fmt: skip
    switch = ESTATE.hosts["core-sw1"]
    device = netns_on_bridge(ESTATE.sites[switch.site].number, "52:54:00:51:56:55",
                             f"{switch.address}/{switch.vlan.subnet.prefixlen}")  # fmt: skip
    device.run("ip", "route", "add", "default", "via", str(switch.vlan.gateway))
    send = ("import socket,sys; socket.socket(socket.AF_INET,socket.SOCK_DGRAM)"
            f".sendto(sys.argv[1].encode(),({LOG1!r},514))")  # fmt: skip
    device.run("python3", "-c", send,
               "<30>bimkit-dhcp: " + FORGED.format(address=address, n=3, start=start))  # fmt: skip
    lease_channel = on("zabita-ws01", (
        f"echo '<30>bimkit-dhcp: {FORGED.format(address=address, n=4, start=start)}' | "
        f"timeout 10 openssl s_client -quiet -connect {LOG1}:6515 "
        "-cert /etc/bimkit/tls/forward.pem -key /etc/bimkit/tls/forward.key "
        "-CAfile /etc/bimkit/tls/ca.pem 2>&1; echo exit=$?"),
        check=False)  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        state = json.loads(logs("status", "--json").stdout)
        sources = {f["source"]: f["lines"] for f in state["lease_forgeries"] if f["day"] == today()}
        if {"zabita-ws01", "zabita-ws02", "core-sw1"} <= set(sources):
            break
        assert time.monotonic() < deadline, (sources, lease_channel)
        time.sleep(2)
    assert sources["zabita-ws02"] >= 1 and sources["core-sw1"] >= 1
    found = logs("search", "--ip", address, "--at", on("log1", "date +%FT%T"))
    assert found.returncode == 1 and "no lease of" in found.stdout, found.stdout
    planted = on("log1", f"grep -l 'de:ad:be:ef' {LOG_ARCHIVE}/{today()}/*.leases || true")
    assert planted == "", f"a forged record reached the lease channel: {planted}"
    shown = logs("status")
    assert "Forged lease records" in shown.stdout and "zabita-ws01" in shown.stdout


def test_a_lease_of_six_days_is_found_on_its_fifth_day(
    first_deploy: DeployTotals, tmp_path: Path
) -> None:
    """The seeded records hold a lease of six days, given ten days before the lab came up.
    The search looks back as far as the data's longest lease."""
    long = seed.long_lease(ESTATE, lab_seed_day())
    fifth_day = (long.start + datetime.timedelta(days=4, hours=6)).isoformat()
    assert logs("search", "--ip", long.address, "--at", fifth_day).returncode == 1, \
        "with the data's lease time of 8 hours, nothing is looked for that far back"  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    copy_estate_data(REPO, data)
    estate = yaml.safe_load((data / "estate.yaml").read_text())
    estate["dhcp"] = {**(estate.get("dhcp") or {}), "lease_seconds": 6 * 86400}
    (data / "estate.yaml").write_text(yaml.safe_dump(estate, allow_unicode=True))
    deploy_log1 = [str(BIN / "pyinfra"), "inventory.py", "deploys/log_servers.py", "--limit",
                   "log1", "-y"]  # fmt: skip
    try:
        run(*deploy_log1, env={"BIMKIT_LAB": "1", "BIMKIT_DATA": str(data)})
        found = logs("search", "--ip", long.address, "--at", fifth_day, "--json")
        assert found.returncode == 0, found.stdout
        (lease,) = json.loads(found.stdout)["leases"]
        assert (lease["mac"], lease["hostname"]) == (long.mac, "uzun-kira")
        assert lease["end"] == (long.start + datetime.timedelta(days=6)).astimezone(
            ZoneInfo(ESTATE.config.timezone)).isoformat()  # fmt: skip
    finally:
        run(*deploy_log1, env={"BIMKIT_LAB": "1"})


def lab_seed_day() -> datetime.date:
    """The estate's day when the lab seeded log1 (its oldest folder is LOG_DAYS before)."""
    oldest = on("log1", f"ls {LOG_ARCHIVE} | grep -E '^[0-9]{{4}}-' | sort | head -1")
    return datetime.date.fromisoformat(oldest) + datetime.timedelta(days=seed.LOG_DAYS)


def test_prune_refuses_a_clock_set_far_ahead(first_deploy: DeployTotals) -> None:
    """libfaketime moves bimkit-logs' clock alone: the lab never touches the box's clock.
    Two years ahead, the 60 days of the lab archive would all expire at once."""
    on("log1", "command -v faketime || apt-get install -y -qq faketime >/dev/null")
    on("log1", "systemctl restart chrony")
    deadline = time.monotonic() + 60
    while "Normal" not in on("log1", "chronyc -c tracking"):
        assert time.monotonic() < deadline, "log1's chrony follows the DCs"
        time.sleep(2)
    before = on("log1", f"ls {LOG_ARCHIVE} | wc -l")
    refused = on("log1", "faketime -f +730d bimkit-logs prune; echo exit=$?", check=False)
    assert refused.endswith("exit=1") and "would go at once" in refused, refused
    assert on("log1", f"ls {LOG_ARCHIVE} | wc -l") == before
    assert on("log1", "bimkit-logs prune") == "nothing past the retention"


def test_the_evidence_package_verifies_on_a_machine_without_bimkit(
    first_deploy: DeployTotals, lab: LabPaths, tmp_path: Path
) -> None:
    """Handed over: the package, checked with only the commands its handover record shows,
    on a lab machine that has openssl and coreutils but no bimkit."""
    long = seed.long_lease(ESTATE, lab_seed_day())
    moment = (long.start + datetime.timedelta(hours=1)).isoformat()
    package = tmp_path / "kanit.tar.gz"
    made = logs("evidence", "--ip", long.address, "--at", moment, "--output", str(package))
    assert made.returncode == 0, made.stdout + made.stderr
    with tarfile.open(package) as tar:
        (page,) = [m for m in tar if m.name.endswith("/tutanak.html")]
        html_page = tar.extractfile(page).read().decode()  # type: ignore[union-attr]
        folder = page.name.split("/")[0]
    assert "Kayıt Teslim Tutanağı" in html_page and long.mac in html_page
    commands = html.unescape(re.search(r'<pre id="commands">(.*?)</pre>', html_page,
                                       re.DOTALL)[1])  # type: ignore[index]
    clean = "zabita-ws02"
    assert on(clean, "test -e /usr/local/lib/bimkit || command -v bimkit-logs; echo absent") \
        == "absent"  # fmt: skip
    on(clean, "rm -rf /tmp/kanit && mkdir /tmp/kanit")
    ssh_to(lab, clean, "tar -xzf - -C /tmp/kanit", package.read_bytes())
    ssh_to(lab, clean, f"cat > /tmp/kanit/{folder}/komutlar.sh", commands.encode())
    checked = on(clean, f"cd /tmp/kanit/{folder} && sh komutlar.sh", check=False)
    assert checked.splitlines()[-1] == "DOGRULANDI", checked
    assert f"address={long.address} mac={long.mac}" in checked
    leases = f"/tmp/kanit/{folder}/logs/{long.start.date()}/dc1.leases"
    on(clean, f"sed -i 's/hostname=uzun-kira/hostname=baska-biri/' {leases}")
    tampered = on(clean, f"cd /tmp/kanit/{folder} && sh komutlar.sh; echo exit=$?", check=False)
    assert tampered.endswith("exit=1"), tampered
    on(clean, "rm -rf /tmp/kanit")


def ssh_to(lab: LabPaths, host: str, command: str, data: bytes) -> None:
    """Run `command` on a lab machine with `data` on its standard input."""
    result = subprocess.run(["ssh", "-F", str(lab.ssh_config), host, command], input=data,
                            capture_output=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
