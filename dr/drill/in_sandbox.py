"""What every recovery procedure does inside its sandbox: run a step, run its testinfra checks.

A procedure's checks are pytest files in dr/drill/checks (`test_<check>` per
check a policy lists, `-` read as `_`), run inside the sandbox under pytest
and testinfra against the recovered service; their JUnit report becomes the
drill's check list. The runtime package is mounted read-only at LIB_MOUNT so
the checks can use its parsers; the procedure's parameters are in
RUN_MOUNT/params.json.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr.drill.messages import Failure, said
from dr.process import CommandFailed
from dr.sandbox import machine
from dr.sandbox.machine import MachineSpec

RESTORE_MOUNT = "/restore"
"""The restored snapshot, read-only."""
LIB_MOUNT = "/drill/lib"
"""The host runtime (the folder holding `dr`), read-only."""
SPECS_MOUNT = f"{LIB_MOUNT}/dr/drill/checks"
RUN_MOUNT = "/drill/run"
"""This run's own folder, the only writable bind: params.json, junit.xml, secrets of the run."""
ISOLATION_SPECS = "test_isolation.py"
"""Run in every drill, whatever the procedure: the sandbox must not reach production."""


class RecoveryFailed(Failure):
    """A step of the procedure failed; the message carries the tool's own error."""


def step(spec: MachineSpec, what: str, argv: Sequence[str], timeout: float = 600) -> str:
    """Run one step of the procedure (`what`: a step id of `messages.STEPS`)."""
    try:
        return machine.execute(spec, argv, timeout=timeout).stdout
    except CommandFailed as failed:
        raise RecoveryFailed(
            "step_failed", step=what, sandbox=spec.name, detail=tool_error(failed.output)
        ) from None


def tool_error(output: str) -> str:
    """The tool's own error line (Samba's tools end in a Python exception or `ERROR(...)`)."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [
        line for line in lines if re.match(r"^(ERROR\b|[A-Za-z_.]*(Error|Exception)\b.*:)", line)
    ]
    return errors[-1] if errors else " / ".join(lines[-3:])


def spec_names(always: Sequence[str], checks: Sequence[str]) -> list[str]:
    """`ldap-bind` -> `ldap_bind`, after the checks every drill of the procedure runs."""
    return [*always, *(check.replace("-", "_") for check in checks)]


def run_checks(
    spec: MachineSpec, run_dir: Path, specs: str, names: Sequence[str]
) -> list[dict[str, Any]]:
    """The procedure's `specs` file (and the isolation check) under pytest in the sandbox;
    `run_dir` is RUN_MOUNT as the DR host sees it."""
    machine.execute(
        spec,
        ["env", f"PYTHONPATH={LIB_MOUNT}", "python3", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "--hosts=local://", f"--junitxml={RUN_MOUNT}/junit.xml",
         "-k", " or ".join(names), f"{SPECS_MOUNT}/{ISOLATION_SPECS}", f"{SPECS_MOUNT}/{specs}"],
        check=False,
        timeout=900,
    )  # fmt: skip
    return checks_from_junit(run_dir / "junit.xml", names, specs)


def checks_from_junit(path: Path, wanted: Sequence[str], specs: str) -> list[dict[str, Any]]:
    """One check per wanted name: failed when any of its cases failed or none ran."""
    if not path.is_file():
        return [{"name": name, "ok": False, **said("checks_did_not_run")} for name in wanted]
    cases: dict[str, list[tuple[bool, str]]] = {name: [] for name in wanted}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        name = case.get("name", "").removeprefix("test_").split("[", 1)[0]
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if name in cases:
            message = problem.get("message", "") if problem is not None else ""
            cases[name].append((problem is None and case.find("skipped") is None, message))
    checks = []
    for name, results in cases.items():
        failed = [message for ok, message in results if not ok]
        if not results:
            words = said("no_test", name=name, specs=specs)
        elif failed:
            words = said("case_failed", detail=failed[0][:300])
        else:
            words = said("cases_passed", count=len(results))
        checks.append({"name": name, "ok": bool(results) and not failed, **words})
    return checks
