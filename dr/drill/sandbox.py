"""The drill's sandbox: a fresh machine on the DR host that cannot reach production.

A volatile machine (its writes in a tmpfs, gone when it stops) booted from
the drill image, in a network namespace of its own holding loopback and an
isolated bridge with a documentation address (192.0.2.0/24): no link out,
no default route. The restored files are bind-mounted from the DR host's
disk, so large restores do not fill memory.

Every sandbox and namespace is named `drill-*` / `bkd-*`, so the next drill
removes whatever a crashed one left behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path

from dr.sandbox import machine, network
from dr.sandbox.image import ImageRecipe, ensure_image
from dr.sandbox.machine import MachineSpec

PREFIX = "drill-"
NETNS_PREFIX = "bkd-"


@dataclass(frozen=True)
class SandboxPlan:
    name: str
    netns: str
    address: IPv4Interface
    home: Path
    binds: tuple[tuple[str, str], ...]
    """Writable: the drill's own run folder only."""
    read_only_binds: tuple[tuple[str, str], ...]
    """The restored data and the checks: the sandbox may read them, never change them."""
    unified_cgroup: bool = False
    """Debian unstable's systemd boots only on the unified cgroup hierarchy."""


def plan(
    work_dir: Path,
    host: str,
    address: str,
    binds: dict[str, str],
    read_only_binds: dict[str, str] | None = None,
    unified_cgroup: bool = False,
) -> SandboxPlan:
    return SandboxPlan(
        name=f"{PREFIX}{host}",
        netns=f"{NETNS_PREFIX}{host}"[:15],
        address=IPv4Interface(address),
        home=work_dir / "sandboxes" / host,
        binds=tuple(sorted(binds.items())),
        read_only_binds=tuple(sorted((read_only_binds or {}).items())),
        unified_cgroup=unified_cgroup,
    )


def spec_of(plan: SandboxPlan, image: Path) -> MachineSpec:
    return MachineSpec(
        name=plan.name,
        image=image,
        home=plan.home,
        netns=plan.netns,
        volatile=True,
        binds=plan.binds,
        read_only_binds=plan.read_only_binds,
        unified_cgroup=plan.unified_cgroup,
    )


def image(cache: Path, recipe: ImageRecipe, http_proxy: str | None) -> Path:
    """A drill image, built once per recipe (before the RTO clock starts)."""
    return ensure_image(cache, recipe, http_proxy)


@contextlib.contextmanager
def running(plan: SandboxPlan, image: Path, keep: bool) -> Iterator[MachineSpec]:
    """The booted sandbox; removed afterwards, also on failure, unless `keep`."""
    spec = spec_of(plan, image)
    network.isolated_netns(plan.netns, plan.address)
    try:
        machine.prepare(spec)
        machine.start(spec)
        machine.wait_booted(spec)
        yield spec
    finally:
        if not keep:
            remove(spec, plan.netns)


def remove(spec: MachineSpec, netns: str) -> None:
    machine.remove(spec)
    network.delete_netns(netns)


def remove_leftovers(work_dir: Path) -> list[str]:
    """Sandboxes and namespaces a crashed or `--keep` drill left; returns their names."""
    removed = []
    sandboxes = work_dir / "sandboxes"
    for home in sorted(sandboxes.iterdir()) if sandboxes.is_dir() else []:
        spec = MachineSpec(name=PREFIX + home.name, image=Path("/"), home=home, volatile=True)
        machine.remove(spec)
        removed.append(spec.name)
    for name in sorted(network.netns_names()):
        if name.startswith(NETNS_PREFIX):
            network.delete_netns(name)
            removed.append(name)
    return removed
