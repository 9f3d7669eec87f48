"""Law 5651 on the lab: DHCP from the DCs' Kea pair, logs collected over TLS, sealed, provable.

Real parts throughout: Kea 2.6 on dc1 and dc2, dnsmasq relaying at the box
(each site's gateway), busybox udhcpc as the client, rsyslog with GnuTLS on
every host and on log1, and the lab's RFC 3161 TSA (`openssl ts -reply`).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bimkit.lab import tsa
from bimkit.lab.plan import bridge_name
from bimkit.lab.state import LabPaths, LabState
from dr.paths import LOG_ARCHIVE
from tests.lab.conftest import DeployTotals, bimkit, run
from tests.lab.test_backups import ESTATE, dr, on

SITE = ESTATE.sites["zabita"]
DATA_VLAN, VOICE_VLAN = SITE.vlans["data"], SITE.vlans["voice"]  # type: ignore[index]
DC1, DC2 = (str(ESTATE.hosts[name].address) for name in ("dc1", "dc2"))
LOG1 = str(ESTATE.hosts["log1"].address)
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
    # The lease event reaches the log server within a minute, in dc1's file of the day.
    deadline = time.monotonic() + 60
    record = f"address={address} mac={CLIENT_MAC} hostname=zabita-pc7"
    while record not in on("log1", f"cat {LOG_ARCHIVE}/{today()}/dc1.log"):
        assert time.monotonic() < deadline, f"no `{record}` on log1 after 60 s"
        time.sleep(2)
    # ... and `bimkit logs search` answers who had the address at that moment.
    moment = on("log1", "date +%FT%T")
    found = logs("search", "--ip", address, "--at", moment, "--json")
    assert found.returncode == 0, found.stdout + found.stderr
    (who,) = json.loads(found.stdout)
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


def test_closed_days_are_sealed_and_verify(first_deploy: DeployTotals) -> None:
    on("log1", "systemctl start bimkit-logs-seal.service")
    result = logs("verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = json.loads(result.stdout)
    assert len(verdicts) >= 60 and all(v["ok"] and v["files"] > 0 for v in verdicts)
    assert verdicts[-1]["day"] == yesterday()
    status = logs("status", "--json")
    assert status.returncode == 0, status.stdout
    state = json.loads(status.stdout)
    assert state["last_sealed_day"] == yesterday() and state["unsealed_days"] == []
    assert state["last_sealed_by_source"]["dc1"] == yesterday()


def test_a_flipped_byte_fails_verify_and_the_drill_naming_the_file(
    first_deploy: DeployTotals,
) -> None:
    day = yesterday()
    path = f"{LOG_ARCHIVE}/{day}/fs1.log"
    flip = (f"python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); "
            f"b[10]^=1; open(p,'wb').write(b)\" {path}")  # fmt: skip
    on("log1", f"chmod u+w {path} && {flip}")
    try:
        result = logs("verify", "--from", day, "--to", day)
        assert result.returncode == 1 and f"altered: {path}" in result.stdout, result.stdout
        code, out, err = dr("backup", "--host", "log1")
        assert code == 0, out + err
        drilled = bimkit("dr", "drill", "--json", "--service", "log1", env={"BIMKIT_LAB": "1"},
                         check=False, timeout=900)  # fmt: skip
        assert drilled.returncode == 1, drilled.stdout
        (row,) = json.loads(drilled.stdout)["results"]
        seals = next(check for check in row["checks"] if check["name"] == "log_seals")
        assert not seals["ok"] and f"altered: {path}" in seals["detail"], seals
    finally:
        on("log1", f"{flip} && chmod 440 {path}")
        dr("backup", "--host", "log1")
    assert logs("verify", "--from", day, "--to", day).returncode == 0


def test_an_unreachable_tsa_leaves_the_day_unsealed_until_a_later_run(
    first_deploy: DeployTotals, lab: LabPaths
) -> None:
    day = yesterday()
    # As if that day's seal run had not happened yet.
    on("log1", f"rm {LOG_ARCHIVE}/{day}/SHA256SUMS {LOG_ARCHIVE}/{day}/SHA256SUMS.tsr")
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
        tsa.ensure_running(lab, gateway)
        on("log1", "systemctl reset-failed bimkit-logs-seal.service", check=False)
    assert f"{day}: sealed" in on("log1", "bimkit-logs seal")
    assert logs("status").returncode == 0
