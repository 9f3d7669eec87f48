#!/usr/bin/python3
"""Join this Samba member server as its own computer account, with a one-time password.

    bimkit-samba-join DC_NAME DC_ADDRESS REALM COMPUTER < one-time-password

The primary DC has set the account's password for this join alone (roles/join).
Samba's own offline join does the rest, with no administrator's password:

1. the domain's SID and GUID, read over LDAP as the computer account;
2. `net offlinejoin composeodj`: the join data for the existing account;
3. `net offlinejoin requestodj`: secrets.tdb and the keytab written from it.

The one-time password stays the machine password until winbind changes it (every
week, `machine password timeout`): it went only to this host, as root's, which is
where secrets.tdb keeps it anyway. (`net ads changetrustpw` at once is refused by
the domain's minimum password age.)

adcli's `--add-samba-data` cannot do step 3 on a host that never joined: `net
changesecretpw` wants the domain's information already in secrets.tdb. The
password reaches `net` through a pipe (PASSWD_FD), never in argv or the
environment. Installed as /usr/local/sbin/bimkit-samba-join by roles/file_server.

Exit status: 0 joined, 1 a step failed (its output said), 2 bad arguments.
"""

import os
import re
import subprocess
import sys
import tempfile

NET = "/usr/bin/net"


class StepFailed(Exception):
    pass


def net(step: str, argv: list[str], password: str | None = None) -> str:
    """Run `net argv`; with `password`, as the computer account (read from a pipe)."""
    pass_fds: tuple[int, ...] = ()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    reader = writer = -1
    if password is not None:
        reader, writer = os.pipe()
        os.write(writer, password.encode() + b"\n")
        os.close(writer)
        pass_fds = (reader,)
        env["PASSWD_FD"] = str(reader)
    try:
        done = subprocess.run(
            [NET, *argv], env=env, pass_fds=pass_fds, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    finally:
        if reader >= 0:
            os.close(reader)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise StepFailed(f"{step} failed: {said[-1] if said else f'exit {done.returncode}'}")
    return done.stdout


def domain_ids(dc: str, account: str, password: str) -> tuple[str, str]:
    found = net(
        "reading the domain's SID and GUID (net ads search)",
        ["ads", "search", "-S", dc, "-U", account, "(objectClass=domainDNS)", "objectSid",
         "objectGUID"],
        password,
    )  # fmt: skip
    sid = re.search(r"^objectSid: (S-1-5-21-[0-9-]+)$", found, re.M)
    guid = re.search(r"^objectGUID: ([0-9a-f-]{36})$", found, re.M)
    if not sid or not guid:
        raise StepFailed(f"the DC {dc} did not give the domain's SID and GUID")
    return sid.group(1), guid.group(1)


def join(dc: str, address: str, realm: str, computer: str, password: str) -> None:
    account = f"{computer}$"
    sid, guid = domain_ids(dc, account, password)
    with tempfile.TemporaryDirectory(prefix="bimkit-join-") as private:  # mode 700
        blob = os.path.join(private, "odj")
        net(
            "composing the join (net offlinejoin composeodj)",
            ["offlinejoin", "composeodj", f"domain_sid={sid}", f"domain_guid={guid}",
             f"forest_name={realm}", "-S", dc, "-I", address, "-U", account,
             f"savefile={blob}"],
            password,
        )  # fmt: skip
        net("joining (net offlinejoin requestodj)", ["offlinejoin", "requestodj",
                                                     f"loadfile={blob}"])  # fmt: skip


def main() -> int:
    arguments = sys.argv[1:]
    if len(arguments) != 4 or not re.fullmatch(r"[A-Z0-9-]{1,15}", arguments[3]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dc, address, realm, computer = arguments
    password = sys.stdin.readline().strip()
    if len(password) < 16:
        print("bimkit-samba-join: no one-time password on stdin", file=sys.stderr)
        return 2
    try:
        join(dc, address, realm, computer, password)
    except StepFailed as error:
        print(f"bimkit-samba-join: {computer}$ on {dc}: {error}", file=sys.stderr)
        return 1
    print(f"joined {realm} as {computer}$")
    return 0


if __name__ == "__main__":
    sys.exit(main())
