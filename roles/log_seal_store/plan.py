"""What `roles/log_seal_store` wants on the DR host: a folder per log server for the copy of
its chain of seals, that only that server's key can add to (pure).

sshd runs `bimkit-log-store <folder>` for the key whatever the client asks
(`command=...,restrict`: no shell, no forwarding, no terminal), and that
program adds files, lists and exports them, never changes or deletes one
(dr.logs.store). The keys' file belongs to root, so the account cannot
change what its keys may do.
"""

from __future__ import annotations

from collections.abc import Mapping

from dr.paths import LOG_STORE_TOOL, SEAL_STORE_HOME, SEAL_STORE_USER, SEAL_STORES
from roles.managed import ManagedDirectory, ManagedFile, State

AUTHORIZED_KEYS = f"{SEAL_STORE_HOME}/.ssh/authorized_keys"


def authorized_keys(public_keys: Mapping[str, str]) -> str:
    """One line per log server: its key, bound to its own folder.

    + public_keys: log server name -> its key (`ecdsa-sha2-nistp256 AAAA...`)
    """
    return "".join(
        f'command="{LOG_STORE_TOOL} {SEAL_STORES}/{name}",restrict {key} log-seals-{name}\n'
        for name, key in sorted(public_keys.items())
    )


def plan_seal_store(public_keys: Mapping[str, str]) -> list[State]:
    return [
        ManagedDirectory(SEAL_STORE_HOME, mode="755"),
        ManagedDirectory(f"{SEAL_STORE_HOME}/.ssh", mode="755"),
        ManagedFile(AUTHORIZED_KEYS, authorized_keys(public_keys)),
        ManagedDirectory(SEAL_STORES, mode="755"),
        *(
            ManagedDirectory(f"{SEAL_STORES}/{name}", mode="750", user=SEAL_STORE_USER,
                             group=SEAL_STORE_USER)
            for name in sorted(public_keys)
        ),
    ]  # fmt: skip
