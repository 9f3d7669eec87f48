"""Ask hosts for pyinfra facts from the CLI, outside a deploy.

`bimkit dc health` and friends use the same facts that deploys use, over
the same inventory (the lab's when BIMKIT_LAB is set), in parallel.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.config import Config
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.facts import FactBase, get_facts
from pyinfra.api.host import Host
from pyinfra.api.inventory import Inventory
from pyinfra.api.state import State
from pyinfra.context import ctx_host, ctx_state

from bimkit.errors import BimkitError
from bimkit.inventory import HostEntry


@dataclass(frozen=True)
class CommandResult:
    ok: bool
    stdout: str
    stderr: str


class Session:
    """Connected hosts; `unreachable` names those that did not answer, with why."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.unreachable: dict[str, str] = {
            host.name: "SSH connection failed"
            for host in state.inventory
            if host not in state.activated_hosts
        }

    def run(self, commands: Mapping[str, str]) -> dict[str, CommandResult]:
        """Run each host's command (host name -> shell command), all hosts in parallel."""
        chosen = [host for host in self.state.activated_hosts if host.name in commands]

        def on(host: Host) -> CommandResult:
            with ctx_state.use(self.state), ctx_host.use(host):
                ok, output = host.run_shell_command(StringCommand(commands[host.name]))
            return CommandResult(ok, output.stdout, output.stderr)

        # Threads, not pyinfra's greenlets: without gevent's monkey patching
        # (which the pyinfra CLI applies) greenlets would take turns, and a
        # backup can run for an hour.
        with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
            running = {host.name: pool.submit(on, host) for host in chosen}
            return {name: future.result() for name, future in running.items()}

    def facts(self, fact: type[FactBase[Any]], **arguments: Any) -> dict[str, Any]:
        """host name -> the fact's value, for every connected host."""
        found: dict[Host, Any] = get_facts(self.state, fact, kwargs=arguments)  # type: ignore[no-untyped-call]
        return {host.name: value for host, value in found.items()}


@contextmanager
def connected(entries: list[HostEntry]) -> Iterator[Session]:
    """Connect to `entries` in parallel; hosts that cannot be reached are reported, not raised."""
    state = State(Inventory((list(entries), {})), Config())  # type: ignore[no-untyped-call]
    with suppress(PyinfraError):  # none answered: Session.unreachable lists them all
        connect_all(state)
    try:
        yield Session(state)
    finally:
        disconnect_all(state)


def run_on(entry: HostEntry, argv: list[str], what: str) -> CommandResult:
    """Run `argv` on one host; BimkitError naming the host when SSH does not reach it.

    + what: who the host is to the caller, for the error (e.g. "dr: the DR host")
    """
    name, data = entry
    with connected([entry]) as session:
        if name in session.unreachable:
            raise BimkitError(
                f"{what} {name} ({data.get('ssh_hostname')}) cannot be reached over SSH: "
                f"{session.unreachable[name]}"
            )
        return session.run({name: shlex.join(argv)})[name]
