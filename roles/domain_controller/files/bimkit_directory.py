#!/usr/bin/python3
"""Read and change the directory on this DC, for bimkit's directory sync.

    bimkit-directory state                 print the directory, password policy and DNS
                                           zones as JSON
    bimkit-directory apply ACTIONS.json    apply actions planned by bimkit

Runs on the primary DC as root and opens the local sam.ldb, so it needs no
password. `apply` is all or nothing: one transaction. A new account gets a
random password that is never printed: it is appended, after the
transaction commits, to HANDOVER (0600 root) for the admins to hand over,
and the account must change it at the next logon. Installed as
/usr/local/sbin/bimkit-directory by the domain_controller role; the planning
lives in bimkit/directory.py.
"""

import json
import os
import secrets
import string
import sys
import time
from typing import Any

import ldb
import samba.param
from samba.auth import system_session
from samba.samdb import SamDB

HANDOVER = "/var/lib/bimkit/handover/initial-passwords.tsv"
OWNED_ATTRIBUTES = (
    "givenName",
    "sn",
    "displayName",
    "mail",
    "department",
    "employeeID",
    "title",
    "telephoneNumber",
)
ACCOUNTDISABLE = 0x2


def open_samdb() -> Any:
    lp = samba.param.LoadParm()
    lp.load_default()
    return SamDB(lp=lp, session_info=system_session())


def parent_dn(dn: Any) -> str:
    return str(dn.parent())


def text(message: Any, attribute: str) -> str | None:
    return str(message[attribute][0]) if attribute in message else None


def state(samdb: Any) -> dict[str, Any]:
    base = samdb.domain_dn()
    ous = [
        str(m.dn)
        for m in samdb.search(base, expression="(objectClass=organizationalUnit)", attrs=["dn"])
    ]
    users = {}
    name_of = {}
    found = samdb.search(
        base,
        expression="(&(objectClass=user)(!(objectClass=computer)))",
        attrs=["sAMAccountName", "userAccountControl", *OWNED_ATTRIBUTES],
    )
    for message in found:
        username = text(message, "sAMAccountName")
        name_of[str(message.dn).lower()] = username
        users[username] = {
            "ou": parent_dn(message.dn),
            "enabled": not int(text(message, "userAccountControl") or 0) & ACCOUNTDISABLE,
            "attributes": {a: text(message, a) for a in OWNED_ATTRIBUTES if a in message},
        }
    groups = {}
    for message in samdb.search(
        base, expression="(objectClass=group)", attrs=["sAMAccountName", "description", "member"]
    ):
        members = [name_of.get(str(dn).lower()) for dn in message.get("member", [])]
        groups[text(message, "sAMAccountName")] = {
            "ou": parent_dn(message.dn),
            "description": text(message, "description") or "",
            "members": sorted(m for m in members if m),
        }
    return {"base": base, "ous": ous, "groups": groups, "users": users}


PASSWORD_ATTRIBUTES = (
    "pwdProperties", "pwdHistoryLength", "minPwdLength", "minPwdAge", "maxPwdAge",
    "lockoutThreshold", "lockoutDuration", "lockOutObservationWindow",
)  # fmt: skip


def password_settings(samdb: Any) -> dict[str, int]:
    """The domain object's password and lockout attributes, as stored (ages in ticks)."""
    [found] = samdb.search(samdb.domain_dn(), scope=ldb.SCOPE_BASE, attrs=list(PASSWORD_ATTRIBUTES))
    return {name: int(str(found[name][0])) for name in PASSWORD_ATTRIBUTES}


def dns_zones(samdb: Any) -> list[str]:
    found = samdb.search(
        "", expression="(objectClass=dnsZone)", attrs=["name"], controls=["search_options:1:2"]
    )
    return sorted(str(zone["name"][0]) for zone in found)


def domain(samdb: Any) -> dict[str, Any]:
    """What the DC role compares with the data, read in one go: directory, password
    policy, DNS zones (one Python start and one open database instead of three tools)."""
    return {
        "directory": state(samdb),
        "password_settings": password_settings(samdb),
        "dns_zones": dns_zones(samdb),
    }


def new_password() -> str:
    """20 characters with every class AD's complexity rule asks for."""
    alphabet = string.ascii_letters + string.digits + "-_.:+="
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(20))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in "-_.:+=" for c in password)
        ):
            return password


def user_dn(samdb: Any, username: str) -> Any:
    found = samdb.search(
        samdb.domain_dn(),
        scope=ldb.SCOPE_SUBTREE,
        expression=f"(sAMAccountName={ldb.binary_encode(username)})",
        attrs=["dn"],
    )
    if len(found) != 1:
        raise RuntimeError(f"account {username} not found")
    return found[0].dn


def replace_attributes(samdb: Any, dn: Any, attributes: dict[str, str]) -> None:
    message = ldb.Message(dn)
    for name, value in attributes.items():
        message[name] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, name)
    samdb.modify(message)


def rename_user(samdb: Any, username: str, new_name: str, alias: str | None) -> None:
    """New sAMAccountName, userPrincipalName and CN; the old mail address stays as an alias.

    The object keeps its SID, groups and password: it is the same account.
    """
    dn = user_dn(samdb, username)
    found = samdb.search(dn, scope=ldb.SCOPE_BASE, attrs=["proxyAddresses"])[0]
    addresses = [str(value) for value in found.get("proxyAddresses", [])]
    if alias and f"smtp:{alias}".lower() not in (a.lower() for a in addresses):
        addresses.append(f"smtp:{alias}")
    message = ldb.Message(dn)
    message["sAMAccountName"] = ldb.MessageElement(new_name, ldb.FLAG_MOD_REPLACE, "sAMAccountName")
    message["userPrincipalName"] = ldb.MessageElement(
        f"{new_name}@{samdb.domain_dns_name()}", ldb.FLAG_MOD_REPLACE, "userPrincipalName"
    )
    if addresses:
        message["proxyAddresses"] = ldb.MessageElement(
            addresses, ldb.FLAG_MOD_REPLACE, "proxyAddresses"
        )
    samdb.modify(message)
    new_dn = ldb.Dn(samdb, str(dn))
    new_dn.set_component(0, "CN", new_name)
    samdb.rename(dn, new_dn)


def relative_to_base(samdb: Any, dn: str) -> str:
    """newuser and newgroup take the OU relative to the domain DN."""
    return dn[: -len(samdb.domain_dn()) - 1]


def apply(samdb: Any, actions: list[dict[str, Any]]) -> dict[str, str]:
    """Applies `actions` in one transaction; returns the new accounts' passwords."""
    passwords = {}
    samdb.transaction_start()
    try:
        for action in actions:
            step, target, details = action["step"], action["target"], dict(action["details"])
            if step == "create OU":
                samdb.create_ou(target)
            elif step == "create group":
                samdb.newgroup(
                    target,
                    groupou=relative_to_base(samdb, details["ou"]),
                    description=details.get("description") or None,
                )
            elif step == "create user":
                passwords[target] = new_password()
                samdb.newuser(
                    target,
                    passwords[target],
                    force_password_change_at_next_login_req=True,
                    useusernameascn=True,
                    userou=relative_to_base(samdb, details.pop("ou")),
                )
                enabled = details.pop("enabled") == "true"
                replace_attributes(samdb, user_dn(samdb, target), details)
                if not enabled:
                    samdb.disable_account(f"(sAMAccountName={ldb.binary_encode(target)})")
            elif step == "rename user":
                rename_user(samdb, target, details["username"], details.get("alias"))
            elif step == "update user":
                replace_attributes(samdb, user_dn(samdb, target), details)
            elif step == "move user":
                dn = user_dn(samdb, target)
                samdb.rename(
                    dn, ldb.Dn(samdb, f"{dn.get_rdn_name()}={dn.get_rdn_value()},{details['ou']}")
                )
            elif step in ("enable user", "disable user"):
                switch = samdb.enable_account if step == "enable user" else samdb.disable_account
                switch(f"(sAMAccountName={ldb.binary_encode(target)})")
            elif step in ("add member", "remove member"):
                samdb.add_remove_group_members(
                    target, [details["member"]], add_members_operation=step == "add member"
                )
            else:
                raise RuntimeError(f"unknown step {step!r}")
            print(f"{step} {target}", flush=True)
    except Exception as error:
        samdb.transaction_cancel()
        print(
            f"bimkit-directory: {step} {target} failed, nothing was changed: {error}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    samdb.transaction_commit()
    return passwords


def hand_over(passwords: dict[str, str]) -> None:
    """Appends new accounts' initial passwords to HANDOVER, readable by root only."""
    if not passwords:
        return
    os.makedirs(os.path.dirname(HANDOVER), mode=0o700, exist_ok=True)
    descriptor = os.open(HANDOVER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        for username, password in sorted(passwords.items()):
            handle.write(f"{stamp}\t{username}\t{password}\n")
    print(f"{len(passwords)} initial password(s) appended to {HANDOVER}")


def main() -> int:
    if sys.argv[1:] == ["state"]:
        json.dump(domain(open_samdb()), sys.stdout, ensure_ascii=False, sort_keys=True)
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "apply":
        with open(sys.argv[2], encoding="utf-8") as handle:
            actions = json.load(handle)
        hand_over(apply(open_samdb(), actions))
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
