#!/usr/bin/python3
"""Ready a computer account for a join with a one-time password, on the primary DC.

    bimkit-computer-account NAME OU HOSTNAME < one-time-password

Creates the computer account NAME$ in OU (DN) when it is missing, or resets the
password of the one there (a member that says it is not joined any more: its
old keytab stops working); then sets the password read from standard input.
The host joins with only that password (`adcli join --login-type=computer`),
which changes it at once, so the domain's Administrator password never leaves
the DCs. Each reset is logged (syslog, and so on the log server). Runs as root
on the local sam.ldb: no password is needed here. Installed as
/usr/local/sbin/bimkit-computer-account by the domain_controller role.

Exit status: 0 done (prints `created` or `reset`), 1 refused (the name belongs to
something that is not a member's computer), 2 bad arguments.
"""

import re
import sys
import syslog
from typing import Any

import ldb
import samba.param
from samba.auth import system_session
from samba.samdb import SamDB

WORKSTATION_TRUST_ACCOUNT = 0x1000
SERVER_TRUST_ACCOUNT = 0x2000


def open_samdb() -> Any:
    lp = samba.param.LoadParm()
    lp.load_default()
    return SamDB(lp=lp, session_info=system_session())


def ready(samdb: Any, name: str, ou: str, hostname: str, password: str) -> str:
    account = f"{name}$"
    found = samdb.search(
        samdb.domain_dn(),
        expression=f"(sAMAccountName={ldb.binary_encode(account)})",
        attrs=["objectClass", "userAccountControl"],
    )
    if found and b"computer" not in [bytes(c) for c in found[0]["objectClass"]]:
        raise PermissionError(f"{account} is not a computer account: refused")
    if found and int(found[0]["userAccountControl"][0]) & SERVER_TRUST_ACCOUNT:
        # A DC's password would give a member's root the whole directory (DCSync).
        raise PermissionError(f"{account} is a domain controller's account: refused")
    outcome = "reset" if found else "created"
    fqdn = f"{hostname}.{samdb.domain_dns_name()}"
    if not found:
        # The names a member's Kerberos services answer to, as adcli gives them (the
        # file server's offline join sets none).
        samdb.newcomputer(name, computerou=ou, description=f"bimkit: {hostname}",
                          service_principal_name_list=[
                              f"{service}/{host}" for service in ("HOST", "RestrictedKrbHost")
                              for host in (name, fqdn)])  # fmt: skip
    samdb.setpassword(
        f"(sAMAccountName={ldb.binary_encode(account)})", password, force_change_at_next_login=False
    )
    if not found:
        dn = samdb.search(samdb.domain_dn(),
                          expression=f"(sAMAccountName={ldb.binary_encode(account)})")[0].dn
        message = ldb.Message(dn)
        message["dNSHostName"] = ldb.MessageElement(fqdn, ldb.FLAG_MOD_REPLACE, "dNSHostName")
        # newcomputer makes it disabled; enabled now, with only the one-time password.
        message["userAccountControl"] = ldb.MessageElement(
            str(WORKSTATION_TRUST_ACCOUNT), ldb.FLAG_MOD_REPLACE, "userAccountControl"
        )
        samdb.modify(message)
    return outcome


def main() -> int:
    arguments = sys.argv[1:]
    if len(arguments) != 3 or not re.fullmatch(r"[A-Z0-9-]{1,15}", arguments[0]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name, ou, hostname = arguments
    password = sys.stdin.readline().strip()
    if len(password) < 16:
        print("bimkit-computer-account: no one-time password on stdin", file=sys.stderr)
        return 2
    try:
        outcome = ready(open_samdb(), name, ou, hostname, password)
    except PermissionError as error:
        print(f"bimkit-computer-account: {error}", file=sys.stderr)
        return 1
    syslog.openlog("bimkit-computer-account", 0, syslog.LOG_AUTH)
    syslog.syslog(
        syslog.LOG_WARNING if outcome == "reset" else syslog.LOG_INFO,
        f"computer account {name}$ {outcome} for a join of {hostname} with a one-time password",
    )
    print(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
