#!/usr/bin/python3
"""Before using a DC: it answers, it takes the Administrator password, it serves our realm.

    bimkit-dc-check PASSWORD_FILE ADDRESS NAME REALM [SECONDS]

Waits up to SECONDS (default 120) for the DC at ADDRESS to answer in LDAP,
reads the realm it serves, waits for its DNS to answer for that realm, then
binds as Administrator with the password in PASSWORD_FILE. Each way of
failing ends with one line that names the DC and the cause, and its own
exit code:

    3  the DC does not answer          4  it refuses the password
    5  it serves another realm

Run by bimkit's domain_controller role before a join (against the primary)
and before changes made over RPC (against the DC itself).
"""

import contextlib
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import ldb
import samba.param
from samba import Ldb, credentials

UNREACHABLE, WRONG_PASSWORD, OTHER_REALM = 3, 4, 5
INVALID_CREDENTIALS = 49


def fail(code: int, message: str) -> NoReturn:
    print(f"bimkit-dc-check: {message}", file=sys.stderr)
    sys.exit(code)


def listens(address: str) -> bool:
    try:
        socket.create_connection((address, 389), timeout=2).close()
    except OSError:
        return False
    return True


def resolves(address: str, realm: str) -> bool:
    lookup = subprocess.run(
        ["host", "-W", "2", "-t", "SRV", f"_ldap._tcp.{realm}", address],
        capture_output=True,
        check=False,
    )
    return lookup.returncode == 0


def wait_for(ready: Callable[[], bool], deadline: float, message: str) -> None:
    while not ready():
        if time.monotonic() > deadline:
            fail(UNREACHABLE, message)
        time.sleep(2)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Samba's C library prints its own lines for a failed bind; this script says it once."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def connect(address: str, lp: Any, username: str | None = None, password: str | None = None) -> Any:
    """An LDAP connection to the DC: anonymous, or bound as `username`."""
    creds = credentials.Credentials()
    creds.guess(lp)
    if username is None:
        creds.set_anonymous()
    else:
        creds.set_username(username)
        creds.set_password(password)
    creds.set_kerberos_state(credentials.DONT_USE_KERBEROS)
    with quiet_stderr():
        return Ldb(url=f"ldap://{address}", credentials=creds, lp=lp)


def served_realm(connection: Any) -> str:
    """From the rootDSE, which AD lets anyone read: DC=ad,DC=example,DC=tr -> ad.example.tr."""
    [root] = connection.search("", scope=ldb.SCOPE_BASE, attrs=["defaultNamingContext"])
    naming_context = str(root["defaultNamingContext"][0])
    return ".".join(part.split("=", 1)[1] for part in naming_context.split(",")).lower()


def main() -> int:
    if len(sys.argv) not in (5, 6):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    password_file, address, name, realm = sys.argv[1:5]
    seconds = int(sys.argv[5]) if len(sys.argv) == 6 else 120
    if os.stat(password_file).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        fail(2, f"{password_file} is readable by others; refusing")
    deadline = time.monotonic() + seconds
    wait_for(
        lambda: listens(address),
        deadline,
        f"DC {name} ({address}) does not answer on LDAP (389/tcp) after {seconds} s; "
        f"is samba-ad-dc running there and the network open?",
    )
    lp = samba.param.LoadParm()
    try:
        served = served_realm(connect(address, lp))
    except ldb.LdbError as error:
        fail(UNREACHABLE, f"DC {name} ({address}): reading its rootDSE failed: {error.args[-1]}")
    if served != realm.lower():
        fail(
            OTHER_REALM,
            f"DC {name} ({address}) serves realm {served}, but the estate says {realm.lower()}",
        )
    wait_for(
        lambda: resolves(address, realm),
        deadline,
        f"DC {name} ({address}) does not answer DNS queries for {realm} after {seconds} s",
    )
    with open(password_file, encoding="utf-8") as handle:
        password = handle.read().strip()
    try:
        connect(address, lp, "Administrator", password)
    except ldb.LdbError as error:
        code, message = error.args
        if code == INVALID_CREDENTIALS:
            fail(
                WRONG_PASSWORD,
                f"DC {name} ({address}) refused the Administrator password "
                f"in {password_file} (secret ad_admin_password): it differs "
                f"from the domain's",
            )
        fail(UNREACHABLE, f"DC {name} ({address}): LDAP bind as Administrator failed: {message}")
    print(f"DC {name} ({address}) serves {served} and accepts the Administrator password")
    return 0


if __name__ == "__main__":
    sys.exit(main())
