"""The one place where bimkit's host-side code runs processes.

Commands are argv tuples built by pure functions elsewhere; nothing here goes
through a shell. Secrets never travel in argv (they go through environment
variables or files), so a failed command can be shown in full.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dr.errors import DrError

log = logging.getLogger("dr.process")

Argv = Sequence[str]


class CommandFailed(DrError):
    """A command exited non-zero; says what ran, the exit status and the end of its output."""

    def __init__(self, argv: Argv, returncode: int, output: str, context: str = "") -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-12:])
        prefix = f"{context}: " if context else ""
        super().__init__(
            f"{prefix}`{shlex.join(argv)}` failed with exit status {returncode}"
            + (f":\n{tail}" if tail else "")
        )


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Argv,
    *,
    check: bool = True,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 600,
    context: str = "",
) -> Result:
    """Run `argv`, capture its output; raise CommandFailed when `check` and it fails.

    + context: what the command was for, e.g. "lab: bridge for site `zabita`"
    """
    log.debug("run: %s", shlex.join(argv))
    try:
        completed = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise CommandFailed(argv, 127, f"{argv[0]}: command not found", context) from None
    except subprocess.TimeoutExpired as expired:
        raise CommandFailed(argv, -1, f"timed out after {timeout} s", context) from expired
    result = Result(tuple(argv), completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise CommandFailed(
            argv, completed.returncode, completed.stderr + completed.stdout, context
        )
    return result


def run_bytes(
    argv: Argv, *, input: bytes | None = None, timeout: float | None = 600, context: str = ""
) -> bytes:
    """Run `argv` with binary input and output (an archive through SSH); its stdout.

    CommandFailed, with what the command said on stderr, when it exits non-zero.
    """
    log.debug("run: %s", shlex.join(argv))
    try:
        completed = subprocess.run(
            list(argv), input=input, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise CommandFailed(argv, 127, f"{argv[0]}: command not found", context) from None
    except subprocess.TimeoutExpired as expired:
        raise CommandFailed(argv, -1, f"timed out after {timeout} s", context) from expired
    if completed.returncode != 0:
        said = completed.stderr.decode(errors="replace") + completed.stdout.decode(
            errors="replace")[:2000]  # fmt: skip
        raise CommandFailed(argv, completed.returncode, said, context)
    return completed.stdout
