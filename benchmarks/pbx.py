"""PBX figures on the lab: a deploy of 2,000 extensions and 50 queues, first and converged;
100 concurrent calls through pbx1.

    sudo .venv/bin/python benchmarks/pbx.py [--people 2000] [--queues 50] [--runs 3]
                                            [--calls 100] [--talk 10]

Needs the lab up (`bimkit lab up`; pbx1 is deployed by the first run). Writes a
copy of the estate data with `--people` more staff (each with an extension,
spread over `--queues` call-centre queues) into a temporary folder and runs
`deploys/pbx.py` against pbx1 with it: the first run (rendering, writing and
reloading everything) and then `--runs` converged re-runs, which should change
nothing. Prints the seconds, the endpoints Asterisk reports, and the median
converged run against a bare pyinfra `true` on pbx1. Puts the estate's own
configuration back at the end.

Then the calls (with the caller allowed `--calls` calls at once, `max_calls`; the
estate's default is 2): a SIPp "phone" at merkez places `--calls` calls, all at once
(20 new calls a second, all up together), to a SIPp phone at zabita
registered as its extension, which answers every one and echoes its audio
(RTP both ways through Asterisk, G.711, `--talk` seconds a call). Prints how
many calls were answered and hung up cleanly, how many failed, and the answer
time (first INVITE to 200 OK, the digest challenge included) percentiles.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from bimkit.lab.state import LabPaths  # noqa: E402
from bimkit.model.load import load_estate  # noqa: E402
from bimkit.model.schema import Role  # noqa: E402
from bimkit.model.telephony import (  # noqa: E402
    EXTENSIONS_FILE,
    extensions_text,
    recording,
    sip_devices,
)
from bimkit.sites import copy_estate_data  # noqa: E402
from roles.pbx.plan import sip_password  # noqa: E402

SCENARIOS = {"register.xml": REPO / "tests/lab/sipp/register.xml",
             "call.xml": REPO / "dr/drill/checks/call.xml"}  # fmt: skip
CALLER, CALLER_HOST = 2100, "merkez-ws01"
CALLEE, CALLEE_HOST = 3150, "zabita-ws01"


def pyinfra(deploy: str, data: Path) -> tuple[float, str]:
    env = {**os.environ, "BIMKIT_LAB": "1", "BIMKIT_DATA": str(data)}
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "pyinfra"), "inventory.py", deploy, "-y", "--limit", "pbx1"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise SystemExit(f"{deploy} with the data in {data} failed:\n{output[-3000:]}")
    return time.monotonic() - started, output


def changed(output: str) -> str:
    line = next(line for line in output.splitlines() if "Grand total" in line)
    return line.split()[3]


def big_estate(folder: Path, people: int, queues: int) -> Path:
    folder.mkdir(parents=True)
    copy_estate_data(REPO, folder)
    estate = yaml.safe_load((folder / "estate.yaml").read_text())
    estate["telephony"] = {
        "queues": {f"kuyruk-{n:02d}": {"strategy": "rrmemory"} for n in range(queues)}
        | {"beyaz-masa": {}}
    }
    (folder / "estate.yaml").write_text(yaml.safe_dump(estate, allow_unicode=True))
    directory = yaml.safe_load((folder / "directory/people.yaml").read_text())
    for n in range(people):
        directory["people"].append({
            "id": f"9{n:05d}", "given_name": "Personel", "family_name": f"Numara{n}",
            "department": "cagri-merkezi", "extension": 60000 + n,
            "queues": [f"kuyruk-{n % queues:02d}"],
        })  # fmt: skip
    (folder / "directory/people.yaml").write_text(yaml.safe_dump(directory, allow_unicode=True))
    record_extensions(folder)
    return folder


def record_extensions(folder: Path) -> None:
    """As `bimkit pbx record` would: every extension recorded for its present holder."""
    estate = load_estate(folder)
    holders = recording(estate.extension_holders, sip_devices(estate))
    (folder / EXTENSIONS_FILE).write_text(extensions_text(holders))


def unlimited_caller(folder: Path, calls: int) -> Path:
    """The estate's data, with CALLER allowed `calls` calls at once (2 by default)."""
    folder.mkdir(parents=True)
    copy_estate_data(REPO, folder)
    directory = yaml.safe_load((folder / "directory/people.yaml").read_text())
    for person in directory["people"]:
        if person.get("extension") == CALLER:
            person["max_calls"] = calls
    (folder / "directory/people.yaml").write_text(yaml.safe_dump(directory, allow_unicode=True))
    return folder


def on(host: str, command: str, check: bool = True) -> str:
    result = subprocess.run([str(BIN / "bimkit"), "lab", "ssh", host, "--", command],
                            capture_output=True, text=True, check=check)  # fmt: skip
    return result.stdout.strip()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def concurrent_calls(calls: int, talk_seconds: int) -> None:
    secret = (LabPaths.from_env().secrets / "pbx_secret").read_text().strip()
    estate = load_estate(REPO)
    pbx = estate.hosts_with(Role.pbx)[0].address
    phone = {device.extension: sip_password(secret, device.credential or "")
             for device in sip_devices(estate)}  # fmt: skip
    for host in (CALLER_HOST, CALLEE_HOST):
        on(host, "command -v sipp >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install "
                 "-y -qq --no-install-recommends sip-tester >/dev/null")  # fmt: skip
        for scenario, path in SCENARIOS.items():
            on(host, f"mkdir -p /root/bench && cat > /root/bench/{scenario} <<'EOF'\n"
                     f"{path.read_text()}EOF")  # fmt: skip
        on(host, "pkill -x sipp; rm -f /root/bench/*.csv /root/bench/*.log; true")
    lasting = f"-nostdin -timeout {talk_seconds + 120}s"
    common = f"{pbx} {lasting}"
    on(CALLEE_HOST, f"cd /root/bench && sipp -sf register.xml {common} -s {CALLEE} -au {CALLEE} "
                    f"-ap {phone[CALLEE]} -p 5070 -m 1 >/dev/null")  # fmt: skip
    # -aa answers the PBX's voicemail notifications (NOTIFY), which SIPp counts among
    # its -m calls: room for them, and the phone is stopped at the end anyway.
    on(CALLEE_HOST, f"cd /root/bench && sipp -sn uas -aa -rtp_echo -p 5070 -m {calls * 2} "
                    f"{lasting} -bg >/dev/null 2>&1 || true")  # fmt: skip
    started = time.monotonic()
    # call.xml talks for two turns of -d: the whole call is `talk_seconds`.
    on(CALLER_HOST, f"cd /root/bench && sipp -sf call.xml {common} -s {CALLEE} -au {CALLER} "
                    f"-ap {phone[CALLER]} -p 5080 -key caller {CALLER} "
                    f"-m {calls} -l {calls} -r 20 -d {talk_seconds * 500} -trace_rtt "
                    f"-rtt_freq 1 -trace_stat -fd 1 -stf stats.csv -trace_err >/dev/null 2>&1",
       check=False)  # fmt: skip
    elapsed = time.monotonic() - started
    header, *rows = [line.split(";") for line in on(
        CALLER_HOST, "cat /root/bench/stats.csv").splitlines()]  # fmt: skip
    row = dict(zip(header, rows[-1], strict=False))
    column = header.index("CurrentCall")
    peak = max(int(values[column]) for values in rows if len(values) > column)
    answered = [
        float(line.split(";")[1])
        for line in on(CALLER_HOST, "cat /root/bench/*_rtt.csv | grep -v '^Date'").splitlines()
        if ";" in line
    ]
    on(CALLEE_HOST, "pkill -x sipp; true")
    print(f"{calls} calls, {talk_seconds} s each, RTP both ways, at most {peak} at once, in "
          f"{elapsed:.0f} s: {row['SuccessfulCall(C)']} completed, {row['FailedCall(C)']} "
          f"failed")  # fmt: skip
    if answered:
        print(f"answer time (INVITE to 200 OK), ms: p50 {percentile(answered, 0.5):.0f}, "
              f"p95 {percentile(answered, 0.95):.0f}, p99 {percentile(answered, 0.99):.0f}, "
              f"max {max(answered):.0f} ({len(answered)} answered)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--talk", type=int, default=10, help="seconds each call talks")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bimkit-bench-pbx-") as scratch:
        data = big_estate(Path(scratch) / "estate", arguments.people, arguments.queues)
        try:
            first, output = pyinfra("deploys/pbx.py", data)
            print(f"first deploy, +{arguments.people} extensions, {arguments.queues} queues: "
                  f"{first:6.1f} s ({changed(output)} changed)")  # fmt: skip
            runs = [pyinfra("deploys/pbx.py", data) for _ in range(arguments.runs)]
            bare = [pyinfra("benchmarks/pyinfra_true.py", data)[0] for _ in range(arguments.runs)]
            converged = statistics.median(seconds for seconds, _ in runs)
            print(f"converged re-run, median of {arguments.runs}: {converged:6.2f} s "
                  f"(changed: {', '.join(changed(out) for _, out in runs)})")  # fmt: skip
            print(f"bare pyinfra `true` on pbx1, median:   {statistics.median(bare):6.2f} s")
            endpoints = subprocess.run(
                [str(BIN / "bimkit"), "lab", "ssh", "pbx1", "--",
                 "asterisk -rx 'pjsip show endpoints' | tail -n 2"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            print(f"Asterisk: {endpoints}")
            pyinfra("deploys/pbx.py", unlimited_caller(Path(scratch) / "calls", arguments.calls))
            concurrent_calls(arguments.calls, arguments.talk)
        finally:
            pyinfra("deploys/pbx.py", REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
