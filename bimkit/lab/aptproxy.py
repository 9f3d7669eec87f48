"""apt-cacher-ng for the lab: one instance of our own, listening only on the lab bridges.

Lab machines install packages through it exactly as real hosts would through a
proxy, and every package is fetched from the mirror once per box.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from ipaddress import IPv4Address
from pathlib import Path

from bimkit.errors import BimkitError
from bimkit.lab.state import LabPaths

PORT = 3152
"""Not apt-cacher-ng's usual 3142: the Debian package's own service may hold that on `*`."""


def config_text(cache_dir: Path, run_dir: Path, bind: tuple[IPv4Address, ...], port: int) -> str:
    """acng.conf for the lab's instance (pure)."""
    return (
        "# Written by `bimkit lab up`; the lab's own apt-cacher-ng.\n"
        f"CacheDir: {cache_dir}\n"
        f"LogDir: {run_dir / 'log'}\n"
        f"SocketPath: {run_dir / 'socket'}\n"
        f"PidFile: {run_dir / 'apt-cacher-ng.pid'}\n"
        f"Port: {port}\n"
        f"BindAddress: {' '.join(str(address) for address in bind)}\n"
        "ExThreshold: 4\n"
        "VfilePatternEx: ^/\\?release=[0-9]+&arch=.*\n"
    )


def _pid(run_dir: Path) -> int | None:
    try:
        pid = int((run_dir / "apt-cacher-ng.pid").read_text(encoding="utf-8"))
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"apt-cacher-ng" in cmdline else None


def ensure_running(paths: LabPaths, bind: tuple[IPv4Address, ...]) -> None:
    """Start (or restart, when the bridges changed) the lab's apt-cacher-ng."""
    run_dir = paths.apt_proxy
    (run_dir / "conf").mkdir(parents=True, exist_ok=True)
    (run_dir / "log").mkdir(exist_ok=True)
    cache_dir = paths.cache / "apt-cacher-ng"
    cache_dir.mkdir(parents=True, exist_ok=True)
    text = config_text(cache_dir, run_dir, bind, PORT)
    conf = run_dir / "conf" / "acng.conf"
    digest = hashlib.sha256(text.encode()).hexdigest()
    stamp = run_dir / "config.sha256"
    if _pid(run_dir) is not None and stamp.exists() and stamp.read_text() == digest:
        return
    stop(paths)
    conf.write_text(text, encoding="utf-8")
    stamp.write_text(digest, encoding="utf-8")
    with open(run_dir / "log" / "stdout.log", "ab") as output:
        subprocess.Popen(
            ["apt-cacher-ng", "-c", str(run_dir / "conf"), "ForeGround=1"],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_listening(bind[0], PORT, run_dir)


def _wait_listening(address: IPv4Address, port: int, run_dir: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((str(address), port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BimkitError(
        f"lab: apt-cacher-ng did not listen on {address}:{port} within {timeout:.0f} s "
        f"(log: {run_dir / 'log'})"
    )


def stop(paths: LabPaths) -> None:
    pid = _pid(paths.apt_proxy)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid(paths.apt_proxy) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid(paths.apt_proxy) is not None:
        os.kill(pid, signal.SIGKILL)
