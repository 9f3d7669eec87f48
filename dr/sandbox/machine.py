"""One sandbox machine: a copy-on-write overlay of an image, booted by systemd-nspawn.

    home/                 everything that belongs to the machine
      upper/ work/        the overlay's writable layer
      root/               the merged tree nspawn boots
      console.log         what the machine printed while booting
      nspawn.pid          the systemd-nspawn process

The box's PID 1 need not be systemd: `--register=no --keep-unit` keep nspawn
away from the system bus, and the machine's processes stay descendants of the
nspawn process, which is how they are found and stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dr.errors import DrError
from dr.process import Result, run

HOST_GLOBAL_CAPABILITIES = ("CAP_SYS_TIME", "CAP_WAKE_ALARM", "CAP_SYS_MODULE")
"""Never given to a machine, nested or not: they act on the box, not the machine."""


class MachineError(DrError):
    """A machine would not start, boot or stop."""


@dataclass(frozen=True)
class MachineSpec:
    """What to boot and how it is connected.

    + name: machine and host name
    + image: root of a complete image (see `dr.sandbox.image`)
    + home: the machine's own folder (overlay layers, logs, pid)
    + netns: a namespace under /run/netns to join, or None for a private
      network with nothing but loopback
    + nested: allow the machine to boot sandbox machines of its own
    + authorized_keys: public keys that may log in as root
    + volatile: keep the machine's writes in a tmpfs, gone when it stops; needed
      where `home` is itself on overlayfs (a machine inside a lab machine)
    + binds: (folder here, path inside) pairs bind-mounted into the machine
    + read_only_binds: the same, mounted read-only (restored data, checks)
    + unified_cgroup: boot on the unified cgroup hierarchy; Debian unstable's
      systemd refuses the hybrid one this box has
    """

    name: str
    image: Path
    home: Path
    netns: str | None = None
    nested: bool = False
    authorized_keys: tuple[str, ...] = ()
    volatile: bool = False
    binds: tuple[tuple[str, str], ...] = ()
    read_only_binds: tuple[tuple[str, str], ...] = ()
    unified_cgroup: bool = False

    @property
    def layers(self) -> Path:
        """Where the overlay's upper and work folders live: a tmpfs when `volatile`."""
        return self.home / "rw" if self.volatile else self.home

    @property
    def root(self) -> Path:
        return self.home / "root"

    @property
    def pid_file(self) -> Path:
        return self.home / "nspawn.pid"

    @property
    def console_log(self) -> Path:
        return self.home / "console.log"


def nspawn_argv(spec: MachineSpec) -> list[str]:
    """The systemd-nspawn command line for `spec` (pure)."""
    argv = [
        "systemd-nspawn",
        f"--directory={spec.root}",
        f"--machine={spec.name}",
        "--boot",
        "--register=no",
        "--keep-unit",
        "--console=passive",
        "--link-journal=no",
        "--resolv-conf=off",
        "--timezone=off",
    ]
    argv.append(
        f"--network-namespace-path=/run/netns/{spec.netns}" if spec.netns else "--private-network"
    )
    argv += [f"--bind={outside}:{inside}" for outside, inside in spec.binds]
    argv += [f"--bind-ro={outside}:{inside}" for outside, inside in spec.read_only_binds]
    if spec.nested:
        # All capabilities but those over the box's own clock and kernel: with
        # CAP_SYS_TIME a machine setting its time zone can warp the host clock.
        argv += ["--capability=all", f"--drop-capability={','.join(HOST_GLOBAL_CAPABILITIES)}"]
    return argv


def nspawn_environment(spec: MachineSpec) -> dict[str, str]:
    """The environment systemd-nspawn runs with (pure but for our own)."""
    env = dict(os.environ)
    if spec.unified_cgroup:
        env["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1"
    return env


def is_mounted(path: Path) -> bool:
    target = str(path.resolve()) if path.exists() else str(path)
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == target for line in mounts)


def prepare(spec: MachineSpec) -> dict[str, str]:
    """Mount the machine's overlay and give it its identity; return its SSH host public keys.

    Idempotent: an existing overlay (a machine that ran before) keeps its disk.
    """
    spec.root.mkdir(parents=True, exist_ok=True)
    if spec.volatile and not is_mounted(spec.layers):
        spec.layers.mkdir(exist_ok=True)
        run(
            ["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", str(spec.layers)],
            context=f"machine `{spec.name}`: tmpfs for its writes at {spec.layers}",
        )
    for part in ("upper", "work"):
        (spec.layers / part).mkdir(exist_ok=True)
    if not is_mounted(spec.root):
        run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={spec.image},upperdir={spec.layers}/upper,workdir={spec.layers}/work",
                str(spec.root),
            ],
            context=f"machine `{spec.name}`: mount overlay at {spec.root}",
        )
    (spec.root / "etc/hostname").write_text(spec.name + "\n", encoding="utf-8")
    if spec.authorized_keys:
        ssh_dir = spec.root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        keys = ssh_dir / "authorized_keys"
        keys.write_text("".join(key.strip() + "\n" for key in spec.authorized_keys), "utf-8")
        keys.chmod(0o600)
    if not list((spec.root / "etc/ssh").glob("ssh_host_*_key")):
        run(
            ["ssh-keygen", "-A", "-f", str(spec.root)],
            context=f"machine `{spec.name}`: SSH host keys",
        )
    return {
        path.name: path.read_text(encoding="utf-8").strip()
        for path in sorted((spec.root / "etc/ssh").glob("ssh_host_*_key.pub"))
    }


def nspawn_pid(spec: MachineSpec) -> int | None:
    """The pid of the machine's running nspawn process, if there is one.

    Found by its command line when the pid file is missing or stale (a `start`
    killed between spawning nspawn and writing the file), so a machine is
    never booted twice.
    """
    try:
        pid = int(spec.pid_file.read_text(encoding="utf-8"))
        if _boots(pid, spec.root):
            return pid
    except (OSError, ValueError):
        pass
    for pid in _all_pids():
        if _boots(pid, spec.root):
            spec.pid_file.write_text(str(pid), encoding="utf-8")
            return pid
    return None


def _boots(pid: int, root: Path) -> bool:
    """True when `pid` is a live systemd-nspawn booting `root`."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"systemd-nspawn" in cmdline[0] and f"--directory={root}".encode() in cmdline


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def start(spec: MachineSpec) -> int:
    """Boot the machine unless it already runs; return the nspawn pid."""
    running = nspawn_pid(spec)
    if running is not None:
        return running
    if shutil.which("systemd-nspawn") is None:
        raise MachineError("systemd-nspawn is not installed (Debian package systemd-container)")
    with open(spec.console_log, "ab") as console:
        process = subprocess.Popen(
            nspawn_argv(spec),
            env=nspawn_environment(spec),
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the bimkit command that started it
        )
    spec.pid_file.write_text(str(process.pid), encoding="utf-8")
    # Until the child has exec'd, its command line is ours: wait, so that a
    # check right after `start` does not take a starting machine for a dead one.
    deadline = time.monotonic() + 10
    while not _boots(process.pid, spec.root):
        if process.poll() is not None or time.monotonic() > deadline:
            raise MachineError(_boot_failure(spec, "systemd-nspawn did not start"))
        time.sleep(0.01)
    return process.pid


def leader_pid(spec: MachineSpec) -> int | None:
    """The machine's init (PID 1 inside), the child of its nspawn process."""
    pid = nspawn_pid(spec)
    if pid is None:
        return None
    children = _children(pid)
    return children[0] if children else None


def execute(
    spec: MachineSpec, argv: Sequence[str], *, check: bool = True, timeout: float = 600
) -> Result:
    """Run `argv` inside the running machine (all its namespaces), as root."""
    leader = leader_pid(spec)
    if leader is None:
        raise MachineError(f"machine `{spec.name}` is not running (see {spec.console_log})")
    return run(
        [
            "nsenter",
            f"--target={leader}",
            "--mount",
            "--uts",
            "--ipc",
            "--net",
            "--pid",
            "--",
            *argv,
        ],
        check=check,
        timeout=timeout,
        context=f"machine `{spec.name}`",
    )


def wait_booted(spec: MachineSpec, timeout: float = 120) -> str:
    """Wait until systemd inside has finished booting; return its state (`running`, ...)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nspawn_pid(spec) is None:
            raise MachineError(_boot_failure(spec, "stopped while booting"))
        if leader_pid(spec) is not None:
            result = execute(spec, ["systemctl", "is-system-running"], check=False, timeout=10)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                return state
        time.sleep(0.3)
    raise MachineError(_boot_failure(spec, f"not booted after {timeout:.0f} s"))


def _boot_failure(spec: MachineSpec, what: str) -> str:
    tail = ""
    if spec.console_log.exists():
        lines = spec.console_log.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n".join(lines[-8:])
    return f"machine `{spec.name}`: {what} (console: {spec.console_log})\n{tail}"


def stop(spec: MachineSpec, timeout: float = 20) -> None:
    """Power the machine off, forcefully after `timeout`; unmount its overlay."""
    pid = nspawn_pid(spec)
    if pid is not None:
        _signal(pid, signal.SIGTERM)  # nspawn asks the machine's systemd to power off
        if not _wait_gone(pid, timeout):
            for victim in [*_descendants(pid), pid]:
                _signal(victim, signal.SIGKILL)
            _wait_gone(pid, 5)
    spec.pid_file.unlink(missing_ok=True)
    unmount(spec.root)
    if spec.volatile:
        unmount(spec.layers)


def unmount(path: Path) -> None:
    if is_mounted(path):
        result = run(["umount", str(path)], check=False)
        if result.returncode != 0:
            # Still busy (a process we do not own keeps a file open): detach it.
            run(["umount", "--lazy", str(path)], context=f"unmount {path}")


def remove(spec: MachineSpec) -> None:
    """Stop the machine and delete its disk."""
    stop(spec)
    shutil.rmtree(spec.home, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8")
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        for child in _children(queue.pop()):
            found.append(child)
            queue.append(child)
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False
