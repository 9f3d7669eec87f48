"""Lab servers on the box (apt proxy, TSA, mail sink, DHCP relays): start, find, stop by pid file.

The box may have no systemd of its own, so a lab server is a child process in
its own session with a pid file; `lab down` stops it, also after a crash.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bimkit.errors import BimkitError


@dataclass(frozen=True)
class Daemon:
    name: str
    run_dir: Path
    marker: bytes
    """A word of its command line: a recycled pid is not taken for the server."""

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8"))
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if self.marker in cmdline else None

    def start(self, argv: Sequence[str], write_pid: bool = True) -> None:
        """Start it in the background; `write_pid` False when it writes its own pid file."""
        (self.run_dir / "log").mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "log" / "stdout.log", "ab") as output:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if write_pid:
            self.pid_file.write_text(str(process.pid), encoding="utf-8")

    def ensure(self, argv: Sequence[str], write_pid: bool = True) -> bool:
        """Running with exactly `argv`: started, or restarted when it runs with other
        arguments (an address that moved). True when it was (re)started."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record, wanted = self.run_dir / "argv", "\n".join(argv)
        if self.pid() is not None and record.exists() and record.read_text() == wanted:
            return False
        self.stop()
        record.write_text(wanted)
        self.start(argv, write_pid)
        return True

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)

    def wait_listening(self, address: str, port: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((address, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise BimkitError(
            f"lab: {self.name} did not listen on {address}:{port} within {timeout:.0f} s "
            f"(log: {self.run_dir / 'log'})"
        )
