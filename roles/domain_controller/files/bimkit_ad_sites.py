#!/usr/bin/python3
"""Read and change the AD sites, subnets, site links and where each DC stands.

    bimkit-ad-sites state                print the topology as JSON
    bimkit-ad-sites apply ACTIONS.json   apply actions planned by bimkit (bimkit/ad_sites.py)

Runs on the primary DC as root and opens the local sam.ldb. `apply` is all
or nothing: one transaction. The other DCs get the changes by replication.
Installed as /usr/local/sbin/bimkit-ad-sites by the domain_controller role.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import ldb
import samba.param
from samba import sites, subnets
from samba.auth import system_session
from samba.samdb import SamDB


def open_samdb() -> Any:
    lp = samba.param.LoadParm()
    lp.load_default()
    return SamDB(lp=lp, session_info=system_session())


def sites_dn(samdb: Any) -> str:
    return f"CN=Sites,{samdb.get_config_basedn()}"


def links_dn(samdb: Any) -> str:
    return f"CN=IP,CN=Inter-Site Transports,{sites_dn(samdb)}"


def name_of(dn: Any) -> str:
    return str(dn.get_rdn_value())


def state(samdb: Any) -> dict[str, Any]:
    base = sites_dn(samdb)
    found_sites = samdb.search(base, scope=ldb.SCOPE_ONELEVEL, expression="(objectClass=site)",
                               attrs=["cn"])  # fmt: skip
    topology: dict[str, Any] = {"sites": {name_of(m.dn): [] for m in found_sites}}
    for message in samdb.search(
        f"CN=Subnets,{base}",
        scope=ldb.SCOPE_ONELEVEL,
        expression="(objectClass=subnet)",
        attrs=["cn", "siteObject"],
    ):
        if "siteObject" in message:
            site = name_of(ldb.Dn(samdb, str(message["siteObject"][0])))
            topology["sites"].setdefault(site, []).append(name_of(message.dn))
    topology["links"] = {}
    for message in samdb.search(
        links_dn(samdb),
        scope=ldb.SCOPE_ONELEVEL,
        expression="(objectClass=siteLink)",
        attrs=["siteList", "cost"],
    ):
        listed = [name_of(ldb.Dn(samdb, str(dn))) for dn in message.get("siteList", [])]
        cost = int(str(message["cost"][0])) if "cost" in message else 100
        topology["links"][name_of(message.dn)] = {"sites": listed, "cost": cost}
    topology["servers"] = {
        name_of(m.dn): name_of(m.dn.parent().parent())
        for m in samdb.search(base, expression="(objectClass=server)", attrs=["cn"])
    }
    return topology


def set_link(samdb: Any, name: str, wanted_sites: list[str], cost: int) -> None:
    dn = f"CN={name},{links_dn(samdb)}"
    site_dns = [f"CN={site},{sites_dn(samdb)}" for site in wanted_sites]
    found = samdb.search(links_dn(samdb), scope=ldb.SCOPE_ONELEVEL,
                         expression=f"(cn={ldb.binary_encode(name)})", attrs=["cn"])  # fmt: skip
    if not found:
        samdb.add({"dn": dn, "objectClass": "siteLink", "siteList": site_dns,
                   "cost": str(cost), "replInterval": "180"})  # fmt: skip
        return
    change = ldb.Message(ldb.Dn(samdb, dn))
    change["siteList"] = ldb.MessageElement(site_dns, ldb.FLAG_MOD_REPLACE, "siteList")
    change["cost"] = ldb.MessageElement(str(cost), ldb.FLAG_MOD_REPLACE, "cost")
    samdb.modify(change)


def move_server(samdb: Any, server: str, site: str) -> None:
    [found] = samdb.search(sites_dn(samdb), expression=f"(&(objectClass=server)"
                           f"(cn={ldb.binary_encode(server)}))", attrs=["cn"])  # fmt: skip
    samdb.rename(found.dn, ldb.Dn(samdb, f"CN={server},CN=Servers,CN={site},{sites_dn(samdb)}"))


def apply(samdb: Any, actions: list[dict[str, Any]]) -> None:
    config = samdb.get_config_basedn()
    samdb.transaction_start()
    try:
        for action in actions:
            step, target, details = action["step"], action["target"], action["details"]
            if step == "create_site":
                sites.create_site(samdb, config, target)
            elif step == "set_subnet":
                existing = samdb.search(f"CN=Subnets,{sites_dn(samdb)}", scope=ldb.SCOPE_ONELEVEL,
                                        expression=f"(cn={ldb.binary_encode(target)})")  # fmt: skip
                if existing:
                    subnets.set_subnet_site(samdb, config, target, details["site"])
                else:
                    subnets.create_subnet(samdb, config, target, details["site"])
            elif step == "set_link":
                set_link(samdb, target, details["sites"], details["cost"])
            elif step == "move_server":
                move_server(samdb, target, details["site"])
            else:
                raise ValueError(f"unknown step {step}")
            print(f"bimkit-ad-sites: {step} {target} {json.dumps(details, ensure_ascii=False)}")
    except BaseException:
        samdb.transaction_cancel()
        raise
    samdb.transaction_commit()


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "state":
        print(json.dumps(state(open_samdb()), ensure_ascii=False, sort_keys=True))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "apply":
        with open(sys.argv[2], encoding="utf-8") as handle:
            apply(open_samdb(), json.load(handle))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
