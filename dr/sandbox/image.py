"""Debian root images for sandbox machines, built once per recipe and cached.

An image is a debootstrap tree plus a few changes that make it safe to boot
many times side by side (no shared SSH host keys, no shared machine id). It
lives in `<cache>/images/<recipe hash>/rootfs` and is never changed after
it is complete: machines boot from overlays on top of it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dr.process import run

COMPLETE_MARKER = "recipe.json"


@dataclass(frozen=True)
class ImageRecipe:
    """What goes into an image. Any change gives a new hash, hence a new image."""

    suite: str = "trixie"
    mirror: str = "http://deb.debian.org/debian"
    packages: tuple[str, ...] = (
        "systemd",
        "systemd-sysv",
        "dbus",
        "openssh-server",
        "python3",
        "iproute2",
        "ca-certificates",
        "procps",
        "iputils-ping",
        "netbase",
        "less",
    )
    masked_units: tuple[str, ...] = (
        # fails harmlessly in nested machines (no modprobe); masked for quiet boots
        "systemd-modules-load.service",
        # no one logs in on the console; saves memory on every machine
        "console-getty.service",
        "getty@.service",
    )
    components: tuple[str, ...] = ("main",)
    extra: dict[str, str] = field(default_factory=dict)
    """Free-form additions (e.g. a nested-sandbox flag) that must change the hash."""
    apt_packages: tuple[str, ...] = ()
    """Installed with apt after debootstrap, whose resolver is only for the base system."""
    check_valid_until: bool = True
    """False for a frozen archive (the unstable copy served here): its Release has expired."""

    @property
    def rolling(self) -> bool:
        """Unstable has no -updates and no -security suite."""
        return self.suite in ("sid", "unstable")

    def digest(self) -> str:
        fields = asdict(self)
        # Fields at their defaults are left out, so existing images keep their digest.
        if not self.apt_packages:
            del fields["apt_packages"]
        if self.check_valid_until:
            del fields["check_valid_until"]
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def for_release(
    release: str,
    mirror: str = ImageRecipe.mirror,
    apt_packages: tuple[str, ...] = (),
    mask: tuple[str, ...] = (),
) -> ImageRecipe:
    """The recipe of a Debian release, with packages installed and units masked on top.

    The unstable archive served to the lab is a frozen copy whose Release file has
    expired, so apt does not insist on its validity date for any rolling release.
    """
    base = ImageRecipe()
    return ImageRecipe(
        suite=release,
        mirror=mirror,
        apt_packages=apt_packages,
        masked_units=(*base.masked_units, *mask),
        check_valid_until=release == base.suite,
    )


def sources_text(recipe: ImageRecipe) -> str:
    """deb822 sources: the suite, its updates and its security archive."""
    security = recipe.mirror.rsplit("/", 1)[0] + "/debian-security"
    components = " ".join(recipe.components)
    if recipe.rolling:
        return (
            f"Types: deb\nURIs: {recipe.mirror}\nSuites: {recipe.suite}\n"
            f"Components: {components}\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        )
    return (
        f"Types: deb\nURIs: {recipe.mirror}\nSuites: {recipe.suite} {recipe.suite}-updates\n"
        f"Components: {components}\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {security}\nSuites: {recipe.suite}-security\n"
        f"Components: {components}\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def image_dir(cache: Path, recipe: ImageRecipe) -> Path:
    return cache / "images" / recipe.digest()


def rootfs(cache: Path, recipe: ImageRecipe) -> Path | None:
    """The image's root when it is complete, else None."""
    directory = image_dir(cache, recipe)
    return directory / "rootfs" if (directory / COMPLETE_MARKER).is_file() else None


@contextmanager
def _build_lock(cache: Path) -> Iterator[None]:
    (cache / "images").mkdir(parents=True, exist_ok=True)
    with open(cache / "images" / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_image(cache: Path, recipe: ImageRecipe, http_proxy: str | None = None) -> Path:
    """The root of a complete image for `recipe`, building it first if needed.

    Builds into a temporary folder renamed into place only when finished, so
    an interrupted build (even kill -9) leaves nothing that looks complete;
    its leftovers are removed by the next build.
    """
    with _build_lock(cache):
        done = rootfs(cache, recipe)
        if done is not None:
            return done
        final = image_dir(cache, recipe)
        building = final.with_name(final.name + ".building")
        for leftover in (building, final):
            if leftover.exists():
                shutil.rmtree(leftover)
        try:
            _build(building / "rootfs", recipe, http_proxy)
            (building / COMPLETE_MARKER).write_text(
                json.dumps(asdict(recipe), indent=2, sort_keys=True), encoding="utf-8"
            )
            building.rename(final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        return final / "rootfs"


def _build(root: Path, recipe: ImageRecipe, http_proxy: str | None) -> None:
    root.parent.mkdir(parents=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    if http_proxy:
        env["http_proxy"] = http_proxy
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(recipe.packages)}",
            f"--components={','.join(recipe.components)}",
            recipe.suite,
            str(root),
            recipe.mirror,
        ],
        env=env,
        timeout=1800,
        context=f"image: debootstrap {recipe.suite} into {root}",
    )
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(
        sources_text(recipe), encoding="utf-8"
    )
    if not recipe.check_valid_until:
        (root / "etc/apt/apt.conf.d/99bimkit-frozen-archive").write_text(
            'Acquire::Check-Valid-Until "false";\n', encoding="utf-8"
        )
    if recipe.apt_packages:
        _apt_install(root, recipe.apt_packages, env)
    # Each machine generates its own host keys and machine id when it is created.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("", encoding="utf-8")
    (root / "etc/hostname").unlink(missing_ok=True)
    for unit in recipe.masked_units:
        link = root / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    # The .deb files fetched are installed; every machine would carry them.
    for package in (root / "var/cache/apt/archives").glob("*.deb"):
        package.unlink()


def _apt_install(root: Path, packages: tuple[str, ...], env: dict[str, str]) -> None:
    """apt-get install in the image's root; no service starts (policy-rc.d says no)."""
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    try:
        for argv in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        ):
            run(["chroot", str(root), *argv], env=env, timeout=1800,
                context=f"image: {' '.join(argv[:2])} in {root}")  # fmt: skip
    finally:
        policy.unlink()
    run(["chroot", str(root), "apt-get", "clean"], env=env, context="image: apt-get clean")
