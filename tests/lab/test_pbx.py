"""The IP PBX on the lab: real Asterisk 22 on pbx1 (a Debian unstable machine), real SIP
clients (SIPp, Debian's `sip-tester`) on workstations at two sites."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from bimkit.lab.state import LabPaths
from roles.pbx.plan import sip_password
from tests.lab.conftest import DeployTotals, lab_secret_values
from tests.lab.test_backups import ESTATE, on

PBX = str(ESTATE.hosts["pbx1"].address)
SCENARIOS = Path(__file__).with_name("sipp")
CALLER, CALLER_HOST = 2100, "merkez-ws01"  # Şükrü Çağlayan
CALLEE, CALLEE_HOST = 3150, "zabita-ws01"  # the Zabıta entrance-desk phone


def password(extension: int) -> str:
    return sip_password(lab_secret_values()["pbx_secret"], extension)


@pytest.fixture(scope="module")
def phones(first_deploy: DeployTotals, lab: LabPaths) -> Iterator[None]:
    """SIPp on two workstations at two sites, with this test's scenarios."""
    for host in (CALLER_HOST, CALLEE_HOST):
        install = "apt-get install -y -qq --no-install-recommends sip-tester >/dev/null"
        on(host, f"command -v sipp >/dev/null || DEBIAN_FRONTEND=noninteractive {install}")
        for scenario in SCENARIOS.glob("*.xml"):
            on(host, f"mkdir -p /root/sipp && cat > /root/sipp/{scenario.name} <<'EOF'\n"
                     f"{scenario.read_text()}EOF")  # fmt: skip
    yield
    for host in (CALLER_HOST, CALLEE_HOST):
        on(host, "pkill -x sipp || true")


def sipp(host: str, scenario: str, service: int, user: int, secret: str, port: int,
         *extra: str) -> tuple[int, str]:  # fmt: skip
    argv = ["sipp", "-sf", f"/root/sipp/{scenario}", PBX, "-s", str(service), "-au", str(user),
            "-ap", secret, "-p", str(port), "-m", "1", "-timeout", "30s", "-timeout_error",
            "-trace_err", "-nostdin", *extra]  # fmt: skip
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


def test_two_phones_at_two_sites_register_and_call(phones: None) -> None:
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE, password(CALLEE), 5070)
    assert code == 0, output
    on(CALLEE_HOST, "cd /root/sipp && (setsid sipp -sn uas -p 5070 -m 1 -nostdin "
                    "-timeout 60s >/dev/null 2>&1 &)")  # fmt: skip
    try:
        code, output = sipp(CALLER_HOST, "call.xml", CALLEE, CALLER, password(CALLER), 5080,
                            "-key", "caller", str(CALLER))  # fmt: skip
        assert code == 0, f"the call was not answered (200 OK) and hung up cleanly:\n{output}"
    finally:
        on(CALLEE_HOST, "pkill -x sipp || true")


def test_a_wrong_password_is_refused(phones: None) -> None:
    code, output = sipp(CALLEE_HOST, "register.xml", CALLEE, CALLEE, "not-the-password", 5071)
    assert code != 0
    assert "403" in output or "401" in output, output
