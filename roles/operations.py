"""Operations the roles share."""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from collections.abc import Generator
from io import StringIO
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import File

from bimkit.secrets import SecretSpec, load_secrets
from roles.facts import PathsState, ServicesState
from roles.managed import (
    PENDING,
    ManagedFile,
    Service,
    State,
    differences,
    markers,
    pending_marker,
)


@operation()
def once(marker: str, commands: list[str]) -> Generator[Any, None, None]:
    """Run `commands` until they have succeeded once, then never again.

    + marker: file created after the commands succeed; while it exists, nothing runs
    + commands: shell commands, run in order; the first failure stops them

    For one-time steps that a fact cannot see, such as seeding a file that
    later takes on a life of its own.

        once(name="idmap copied from the primary", marker="/var/lib/bimkit/idmap-imported",
             commands=["..."])
    """
    if host.get_fact(File, path=marker):
        host.noop(f"done once already ({marker})")
        return
    yield from commands
    yield StringCommand("install", "-D", "-m", "644", "/dev/null", marker)


@operation()
def every_host_done(what: str) -> Generator[Any, None, None]:
    """A barrier between device classes; changes nothing.

    + what: what every host has finished when this runs (for the output)

    pyinfra runs the hosts' operation chains side by side, so a workstation,
    with few operations, would otherwise reach its join while the DCs are still
    provisioning. Called from one line of `deploys/site.py`, this is one
    operation that every host shares, and nothing after it starts on any host
    before every host has done what comes before it.
    """
    host.noop(f"every host has finished {what}")
    yield from ()


PRIVATE_STAGING = "/etc/bimkit/.staging"
"""Root-only folder where private files are prepared before they are moved into place."""


@operation()
def script(name_on_host: str, text: str) -> Generator[Any, None, None]:
    """Run the shell script `text` on the host, uploaded first: a script of thousands of
    lines is too long for one command line (Linux takes 128 KiB in one argument).

    + name_on_host: its file name in the root-only staging folder, removed afterwards
    + text: the script; it stops at its first failure (`set -e` is added)
    """
    staged = posixpath.join(PRIVATE_STAGING, name_on_host)
    yield StringCommand("install", "-d", "-m", "700", "-o", "root", "-g", "root", PRIVATE_STAGING)
    yield FileUploadCommand(StringIO("set -e\n" + text + "\n"), staged)
    quoted = shlex.quote(staged)
    yield StringCommand(f"sh {quoted}; status=$?; rm -f {quoted}; exit $status")


@operation()
def converge(wanted: list[State]) -> Generator[Any, None, None]:
    """Make the host hold `wanted`: files, folders, absent files and running services.

    + wanted: the role's state (roles.managed), in the order it should be applied

    One fact round trip for every path and one for every unit, however many;
    then only what differs: folders made, files uploaded (atomically: beside
    the target, then renamed; private ones in a root-only folder), unwanted
    files removed, the changed items' `then` commands (daemon-reload,
    restarts) run once each, and units enabled and started.

        converge(name="chrony", wanted=[ManagedFile("/etc/chrony/chrony.conf", text,
                 then=("systemctl restart chrony",)), Service("chrony.service")])
    """
    yield from converging(wanted)


def converging(wanted: list[State]) -> Generator[Any, None, None]:
    """The commands of `converge`, for operations that compute their state from a fact."""
    paths = [item.path for item in wanted if not isinstance(item, Service)]
    found_paths = host.get_fact(PathsState, paths=[*paths, *markers(wanted)]) if paths else {}
    units = [item.unit for item in wanted if isinstance(item, Service)]
    found_units = host.get_fact(ServicesState, units=units) if units else {}
    digests = {
        item.path: hashlib.sha256(item.content.encode()).hexdigest()
        for item in wanted
        if isinstance(item, ManagedFile)
    }
    todo = differences(wanted, found_paths, found_units, digests)
    if not todo:
        host.noop(f"{len(paths)} path(s) and {len(units)} unit(s) as wanted")
        return
    if todo.follow_ups:  # owed from now until each has succeeded
        yield StringCommand("install", "-d", "-m", "700", PENDING)
        for command in todo.follow_ups:
            yield f"printf '%s\\n' {shlex.quote(command)} > {pending_marker(command)}"
    for folder in todo.directories:
        yield StringCommand(
            "install", "-d", "-m", folder.mode, "-o", folder.user, "-g", folder.group, folder.path
        )
    for link in todo.links:
        yield StringCommand("ln", "-sfn", link.target, link.path)
    for item in todo.files:
        yield from _upload(item)
    for gone in todo.absent:
        yield StringCommand("rm", "-f", gone.path)
    for command in todo.follow_ups:
        yield f"( {command} ) && rm -f {pending_marker(command)}"
    for service in todo.services:
        yield StringCommand("systemctl", "enable", "--now", service.unit)


def staged_secret(name: str, value: str) -> Generator[Any, None, str]:
    """Upload `value` into a root-only file for the next command, which must remove it;
    returns its path. Keeps a password off command lines and out of logs."""
    staged = posixpath.join(PRIVATE_STAGING, name)
    yield StringCommand("install", "-d", "-m", "700", "-o", "root", "-g", "root", PRIVATE_STAGING)
    yield FileUploadCommand(StringIO(value + "\n"), staged)
    return staged


def _upload(item: ManagedFile) -> Generator[Any, None, None]:
    """Into a staging file (root-only folder for private ones), owner and mode set there,
    then renamed over the target: never half-written, never readable by others."""
    if item.private:
        staged = posixpath.join(PRIVATE_STAGING, posixpath.basename(item.path))
        yield StringCommand(
            "install", "-d", "-m", "700", "-o", "root", "-g", "root", PRIVATE_STAGING
        )
    else:
        staged = f"{item.path}.bimkit-new"
    yield StringCommand("mkdir", "-p", posixpath.dirname(item.path))
    yield FileUploadCommand(StringIO(item.content), staged)
    yield StringCommand("chown", f"{item.user}:{item.group}", staged)
    yield StringCommand("chmod", item.mode, staged)
    yield StringCommand("mv", "-f", staged, item.path)


def secret_value(secret: str) -> str:
    """The value of secret `secret`, read on the control machine (never logged)."""
    return load_secrets([SecretSpec(secret, "", host.name)]).get(secret)
