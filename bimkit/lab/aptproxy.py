"""apt-cacher-ng for the lab: one instance of our own, listening only on the lab bridges.

Lab machines install packages through it exactly as real hosts would through a
proxy, and every package is fetched from the mirror once per box.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address
from pathlib import Path

from bimkit.lab.daemon import Daemon
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


def daemon(paths: LabPaths) -> Daemon:
    return Daemon("apt-cacher-ng", paths.apt_proxy, b"apt-cacher-ng")


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
    server = daemon(paths)
    if server.pid() is not None and stamp.exists() and stamp.read_text() == digest:
        return
    server.stop()
    conf.write_text(text, encoding="utf-8")
    stamp.write_text(digest, encoding="utf-8")
    # apt-cacher-ng writes its own pid file (PidFile in the configuration).
    server.start(["apt-cacher-ng", "-c", str(run_dir / "conf"), "ForeGround=1"], write_pid=False)
    server.wait_listening(str(bind[0]), PORT)


def stop(paths: LabPaths) -> None:
    daemon(paths).stop()
