"""`lab up`, `lab down`, `lab status`: the estate as machines on this box."""

from __future__ import annotations

import datetime
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from zoneinfo import ZoneInfo

from bimkit.errors import BimkitError
from bimkit.lab import aptproxy, dhcp_relay, mail_sink, seed, tsa
from bimkit.lab.guard import IP_FORWARD, apply_guard, refuse_overlapping_supernet, remove_guard
from bimkit.lab.plan import (
    BRIDGE_PREFIX,
    NETNS_PREFIX,
    VETH_PREFIX,
    image_recipe,
    needs_unified_cgroup,
    netns_name,
    plan_lab,
)
from bimkit.lab.state import LabMachineState, LabPaths, LabState
from bimkit.model.estate import Estate
from bimkit.model.schema import Role
from bimkit.secrets import SecretSpec, required_secrets
from dr.process import run
from dr.sandbox import machine
from dr.sandbox.image import ensure_image
from dr.sandbox.machine import MachineSpec
from dr.sandbox.network import (
    attach,
    delete_link,
    delete_netns,
    ensure_bridge,
    link_names,
)
from dr.sandbox.network import netns_names as all_netns

Report = Callable[[str], None]

REQUIRED_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "apt-cacher-ng": "apt-cacher-ng",
    "ssh-keygen": "openssh-client",
    "nsenter": "util-linux",
}


class LabUnavailable(BimkitError):
    """This box cannot run the lab (not root, a tool missing); exit status 2."""


@dataclass(frozen=True)
class MachineStatus:
    host: str
    site: str
    address: str
    state: str
    ssh_ok: bool


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabUnavailable("bimkit lab needs root (network namespaces, bridges, mounts)")
    for tool, package in REQUIRED_TOOLS.items():
        if shutil.which(tool) is None:
            raise LabUnavailable(f"bimkit lab needs `{tool}` (Debian package {package})")


def machine_spec(
    paths: LabPaths,
    host: str,
    image: Path,
    nested: bool = False,
    keys: tuple[str, ...] = (),
    unified_cgroup: bool = False,
) -> MachineSpec:
    return MachineSpec(
        name=host,
        image=image,
        home=paths.machines / host,
        netns=netns_name(host),
        nested=nested,
        authorized_keys=keys,
        unified_cgroup=unified_cgroup,
    )


def ensure_ssh_key(paths: LabPaths) -> str:
    """The lab's root key pair (created once); returns the public key."""
    if not paths.ssh_key.exists():
        paths.ssh_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "bimkit-lab",
                "-f",
                str(paths.ssh_key),
            ],
            context="lab: SSH key",
        )
    return paths.ssh_key.with_suffix(".pub").read_text(encoding="utf-8").strip()


def generate_lab_secrets(paths: LabPaths, specs: list[SecretSpec]) -> None:
    """A random value for every secret the estate needs and the lab lacks (0600, kept)."""
    paths.secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.secrets.chmod(0o700)
    for spec in specs:
        path = paths.secrets / spec.name
        if not path.exists():
            # Upper, lower, digit and symbol: meets AD's default complexity rule.
            value = "Lab-" + secrets.token_urlsafe(18) + "-9a"
            if spec.digits:
                value = str(secrets.randbelow(9 * 10**7) + 10**7)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(value + "\n")


def up(
    estate: Estate, sites: list[str] | None, paths: LabPaths, report: Report
) -> list[MachineStatus]:
    """Bring the lab up for `sites` (default all); idempotent, and recovers a crashed `up`."""
    preflight()
    plan = plan_lab(estate, sites)
    previous = LabState.load(paths)
    if previous is not None and previous.supernet != str(plan.supernet):
        raise BimkitError(
            f"lab: a lab for supernet {previous.supernet} is up; run `bimkit lab down` first"
        )
    refuse_overlapping_supernet(plan.supernet)
    public_key = ensure_ssh_key(paths)
    generate_lab_secrets(paths, required_secrets(estate))
    releases = sorted({m.release for m in plan.machines} | {"trixie"})
    images = {}
    for release in releases:
        report(f"image: Debian {release} (built once, about a minute)")
        images[release] = ensure_image(paths.cache, image_recipe(release))
    image = images["trixie"]

    report(f"network: {len(plan.bridges)} site bridge(s) and the routing guard")
    for bridge in plan.bridges:
        ensure_bridge(bridge)
    _remember_ip_forward(paths)
    _raise_inotify_limit(paths)
    apply_guard(plan.supernet, plan.bridges)
    bind = {str(a.ip) for b in plan.bridges for a in b.addresses}
    bind |= set(previous.apt_proxy_bind if previous else ())
    report("apt proxy: apt-cacher-ng on the lab bridges")
    aptproxy.ensure_running(paths, tuple(IPv4Address(a) for a in sorted(bind, key=IPv4Address)))

    log_servers = [m for m in plan.machines if estate.hosts[m.host].has(Role.log_server)]
    if log_servers:
        gateway = str(log_servers[0].attachment.gateway)
        report(f"time stamp authority: openssl ts on {tsa.url(gateway)}")
        account = tsa.lab_account(paths) if estate.config.logs.tsa.identity else None
        tsa.ensure_running(paths, gateway, account)

    pbxs = [m for m in plan.machines if estate.hosts[m.host].has(Role.pbx)]
    if pbxs and estate.config.telephony.mail_relay:
        gateway = str(pbxs[0].attachment.gateway)
        report(f"mail relay: an SMTP sink on {gateway}:{mail_sink.PORT} (voicemail mail)")
        mail_sink.ensure_running(paths, gateway)

    # Relays for every site of the estate whose bridge is up (also from an earlier `up`).
    bridges = sorted(name for name in link_names() if name.startswith(BRIDGE_PREFIX))
    relays = [r for r in dhcp_relay.plan_relays(estate, plan_lab(estate)) if r.bridge in bridges]
    if relays:
        report(f"DHCP relays: {len(relays)} site gateway(s) to the DCs (dnsmasq)")
    dhcp_relay.ensure_running(paths, relays, bridges)

    report(f"machines: booting {len(plan.machines)}")
    specs = {
        m.host: machine_spec(paths, m.host, images[m.release], m.nested, (public_key,),
                             unified_cgroup=needs_unified_cgroup(m.release))
        for m in plan.machines
    }  # fmt: skip
    host_keys: dict[str, dict[str, str]] = {}
    for lab_machine in plan.machines:
        attach(lab_machine.attachment)
        host_keys[lab_machine.host] = machine.prepare(specs[lab_machine.host])
        machine.start(specs[lab_machine.host])
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(machine.wait_booted, specs.values()))
    # The estate's day, by which the log server files its days (not the box's UTC one).
    today = datetime.datetime.now(ZoneInfo(estate.config.timezone)).date()
    for lab_machine in plan.machines:
        host = estate.hosts[lab_machine.host]
        written = seed.seed(specs[host.name].root, seed.files_for(estate, host, today))
        if written:
            report(f"seed data: {written} files on {host.name}")

    state = previous or LabState(
        supernet=str(plan.supernet), image=str(image), apt_proxy_port=aptproxy.PORT
    )
    state.apt_proxy_bind = sorted(bind, key=IPv4Address)
    for lab_machine in plan.machines:
        state.machines[lab_machine.host] = LabMachineState(
            site=lab_machine.site,
            address=str(lab_machine.address),
            gateway=str(lab_machine.attachment.gateway),
            nested=lab_machine.nested,
        )
    _write_ssh_files(paths, state, host_keys)
    state.save(paths)
    report("SSH: waiting for every machine")
    return status(paths, wait_for_ssh=True)


INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
LAB_INOTIFY_INSTANCES = 1024
"""Every machine's systemd, journald, udevd and services take inotify instances, all
counted for root. Debian's 128 ran out with a dozen deployed machines (CI: rsyslog
"failed because of unavailable resources" on the thirteenth and fourteenth)."""


def _raise_inotify_limit(paths: LabPaths) -> None:
    """Raise the limit while the lab exists; `down` restores the value recorded first."""
    record = paths.root / "inotify_instances.before"
    current = INOTIFY_INSTANCES.read_text(encoding="utf-8").strip()
    if not record.exists():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(current, encoding="utf-8")
    if int(current) < LAB_INOTIFY_INSTANCES:
        INOTIFY_INSTANCES.write_text(f"{LAB_INOTIFY_INSTANCES}\n", encoding="utf-8")


def _restore_inotify_limit(paths: LabPaths) -> None:
    record = paths.root / "inotify_instances.before"
    if record.exists():
        INOTIFY_INSTANCES.write_text(record.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        record.unlink()


def _remember_ip_forward(paths: LabPaths) -> None:
    # Recorded before the first change only, so a crashed `up` cannot lose the original.
    record = paths.root / "ip_forward.before"
    if not record.exists():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(IP_FORWARD.read_text(encoding="utf-8"), encoding="utf-8")


def _write_ssh_files(
    paths: LabPaths, state: LabState, host_keys: dict[str, dict[str, str]]
) -> None:
    known: dict[str, list[str]] = {}
    if paths.known_hosts.exists():
        for line in paths.known_hosts.read_text(encoding="utf-8").splitlines():
            address = line.split(" ", 1)[0]
            known.setdefault(address, []).append(line)
    for host, keys in host_keys.items():
        address = state.machines[host].address
        known[address] = [
            f"{address},{host} {key.split(' ')[0]} {key.split(' ')[1]}" for key in keys.values()
        ]
    paths.known_hosts.write_text(
        "".join(line + "\n" for lines in known.values() for line in lines), encoding="utf-8"
    )
    blocks = [
        f"Host {host} {info.address}\n"
        f"    HostName {info.address}\n"
        "    User root\n"
        f"    IdentityFile {paths.ssh_key}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {paths.known_hosts}\n"
        "    StrictHostKeyChecking yes\n"
        "    BatchMode yes\n"
        "    ConnectTimeout 5\n"
        # One connection per machine for a burst of commands (testinfra runs hundreds).
        "    ControlMaster auto\n"
        f"    ControlPath {paths.ssh_key.parent}/mux-%C\n"
        "    ControlPersist 15\n"
        for host, info in sorted(state.machines.items())
    ]
    paths.ssh_config.write_text("\n".join(blocks), encoding="utf-8")


def ssh_answers(address: str, timeout: float = 2) -> bool:
    """True when an SSH server greets on port 22 of `address`."""
    try:
        with socket.create_connection((address, 22), timeout=timeout) as connection:
            connection.settimeout(timeout)
            return connection.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def status(paths: LabPaths, wait_for_ssh: bool = False) -> list[MachineStatus]:
    state = LabState.load(paths)
    if state is None:
        return []

    def one(item: tuple[str, LabMachineState]) -> MachineStatus:
        host, info = item
        spec = machine_spec(paths, host, Path(state.image))
        running = machine.nspawn_pid(spec) is not None
        attempts = 60 if (wait_for_ssh and running) else 1
        ssh_ok = False
        for _ in range(attempts):
            ssh_ok = running and ssh_answers(info.address)
            if ssh_ok:
                break
            time.sleep(0.5)
        return MachineStatus(
            host, info.site, info.address, "running" if running else "stopped", ssh_ok
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, sorted(state.machines.items())))


def down(paths: LabPaths, report: Report) -> None:
    """Remove everything the lab made; safe to run twice and after a crashed `up`."""
    preflight()
    homes = sorted(paths.machines.iterdir()) if paths.machines.is_dir() else []
    report(f"machines: stopping {len(homes)}")
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda home: machine.remove(machine_spec(paths, home.name, Path())), homes))
    _kill_stray_machines(paths)
    for mount in _mounts_under(paths.root):
        machine.unmount(mount)
    shutil.rmtree(paths.machines, ignore_errors=True)
    report("network: namespaces, links, routes")
    for name in sorted(all_netns()):
        if name.startswith(NETNS_PREFIX):
            delete_netns(name)
    for name in sorted(link_names()):
        if name.startswith((VETH_PREFIX, BRIDGE_PREFIX)):
            delete_link(name)
    aptproxy.stop(paths)
    tsa.stop(paths)
    mail_sink.stop(paths)
    shutil.rmtree(mail_sink.maildir(paths), ignore_errors=True)
    dhcp_relay.stop(paths)
    record = paths.root / "ip_forward.before"
    remove_guard(record.read_text(encoding="utf-8").strip() if record.exists() else None)
    _restore_inotify_limit(paths)
    for leftover in (record, paths.state_file, paths.known_hosts, paths.ssh_config):
        leftover.unlink(missing_ok=True)


def _kill_stray_machines(paths: LabPaths) -> None:
    """nspawn processes booting from under the lab whose machine folder was lost."""
    marker = f"--directory={paths.machines}/".encode()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
        except OSError:
            continue
        if cmdline.startswith(b"systemd-nspawn") and marker in cmdline:
            name = cmdline.split(marker, 1)[1].split(b"/", 1)[0].decode()
            spec = machine_spec(paths, name, Path())
            spec.home.mkdir(parents=True, exist_ok=True)
            machine.stop(spec)


def _mounts_under(root: Path) -> list[Path]:
    prefix = str(root.resolve()) + "/" if root.exists() else str(root) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        targets = [Path(line.split()[1]) for line in mounts if line.split()[1].startswith(prefix)]
    return sorted(targets, key=lambda p: len(p.parts), reverse=True)
