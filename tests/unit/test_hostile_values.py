"""Values that reach shell commands and rendered files: validated as what they are, or quoted.

Strict fields (DNS names, URLs, paths, calendar expressions, names) refuse
every hostile value at their own path. Free text (titles, names,
descriptions) may hold quotes and `$()`, but never a newline; it reaches
hosts only inside JSON, and no command or rendered file of any role carries it.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from typing import Any

import pytest

from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from bimkit.tls import server_tls, ssh_client_key
from roles.backup_agent.plan import plan_agent
from roles.base.plan import plan_base
from roles.dhcp_server.plan import kea_config
from roles.domain_controller import plan as dc_plan
from roles.dr_drill.plan import drill_config, drill_units
from roles.dr_repository.plan import plan_repository, secret_names
from roles.log_server.plan import plan_log_server, tsa_identity
from tests.conftest import EstateData
from tests.unit.test_validation import assert_reported, problems_of, setter

HOSTILE = ["x;reboot", "$(reboot)", "x\nreboot", 'x"y', "x'y", "`id`"]

STRICT_FIELDS = [
    # (file, keys to the field, the path a problem names)
    ("estate.yaml", ("domain",), "domain"),
    ("estate.yaml", ("realm",), "realm"),
    ("estate.yaml", ("timezone",), "timezone"),
    ("estate.yaml", ("ntp_upstream", 0), "ntp_upstream[0]"),
    ("estate.yaml", ("apt_proxy",), "apt_proxy"),
    ("estate.yaml", ("dns_forwarders", 0), "dns_forwarders[0]"),
    ("estate.yaml", ("netbios_domain",), "netbios_domain"),
    ("estate.yaml", ("backup_policies", "file-shares", "paths", 0),
     "backup_policies.file-shares.paths[0]"),
    ("estate.yaml", ("backup_policies", "file-shares", "schedule"),
     "backup_policies.file-shares.schedule"),
    ("estate.yaml", ("backup_policies", "file-shares", "verify", 0),
     "backup_policies.file-shares.verify[0]"),
    ("estate.yaml", ("backup_notify", "webhook"), "backup_notify.webhook"),
    ("estate.yaml", ("backup_notify", "mail_to"), "backup_notify.mail_to"),
    ("estate.yaml", ("logs", "tsa", "url"), "logs.tsa.url"),
    ("estate.yaml", ("logs", "tsa", "header"), "logs.tsa.header"),
    ("estate.yaml", ("logs", "tsa", "certificates"), "logs.tsa.certificates"),
    ("estate.yaml", ("logs", "readers"), "logs.readers"),
    ("estate.yaml", ("logs", "seal_schedule"), "logs.seal_schedule"),
    ("estate.yaml", ("dhcp", "phone_provisioning_url"), "dhcp.phone_provisioning_url"),
    ("sites/zabita.yaml", ("name",), "name"),
    ("sites/zabita.yaml", ("hosts", 1, "name"), "hosts[1].name"),
    ("directory/departments.yaml", ("departments", 0, "id"), "departments[0].id"),
    ("directory/groups.yaml", ("groups", 0, "name"), "groups[0].name"),
    ("directory/people.yaml", ("people", 0, "username"), "people[0].username"),
    ("directory/people.yaml", ("people", 0, "id"), "people[0].id"),
]  # fmt: skip

FREE_TEXT_FIELDS = [
    ("estate.yaml", ("municipality",), "municipality"),
    ("estate.yaml", ("province",), "province"),
    ("estate.yaml", ("backup_policies", "file-shares", "description"),
     "backup_policies.file-shares.description"),
    ("estate.yaml", ("backup_policies", "file-shares", "excludes", 0),
     "backup_policies.file-shares.excludes[0]"),
    ("estate.yaml", ("backup_policies", "file-shares", "pre_hooks"),
     "backup_policies.file-shares.pre_hooks[0]"),
    ("estate.yaml", ("backup_notify", "command"), "backup_notify.command"),
    ("sites/zabita.yaml", ("title",), "title"),
    ("sites/zabita.yaml", ("address",), "address"),
    ("sites/zabita.yaml", ("hosts", 1, "description"), "hosts[1].description"),
    ("directory/departments.yaml", ("departments", 0, "name"), "departments[0].name"),
    ("directory/groups.yaml", ("groups", 0, "description"), "groups[0].description"),
    ("directory/people.yaml", ("people", 0, "given_name"), "people[0].given_name"),
    ("directory/people.yaml", ("people", 0, "family_name"), "people[0].family_name"),
    ("directory/people.yaml", ("people", 0, "title"), "people[0].title"),
]  # fmt: skip


def put(estate_data: EstateData, file: str, keys: tuple[Any, ...], value: Any) -> None:
    if keys[0] == "backup_notify":
        estate_data.edit(file, lambda document: document.setdefault("backup_notify", {}))
    if keys[-1] == "pre_hooks":
        value = [value]
    if keys[0] == "dhcp":
        estate_data.edit(file, lambda document: document.setdefault("dhcp", {}))
    if keys[-1] in ("url", "phone_provisioning_url") or keys == ("apt_proxy",) or keys[:2] == (
        "backup_notify", "webhook"):  # fmt: skip
        value = f"http://10.21.17.5:3142/{value}"
    estate_data.edit(file, setter(*keys, value=value))


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("file", "keys", "path"), STRICT_FIELDS)
def test_a_hostile_value_in_a_strict_field_is_refused_at_its_path(
    estate_data: EstateData, file: str, keys: tuple[Any, ...], path: str, value: str
) -> None:
    put(estate_data, file, keys, value)
    assert_reported(problems_of(estate_data.root), file, path, "")


@pytest.mark.parametrize(("file", "keys", "path"), FREE_TEXT_FIELDS)
def test_free_text_is_one_line(
    estate_data: EstateData, file: str, keys: tuple[Any, ...], path: str
) -> None:
    put(estate_data, file, keys, "Zabıta\nExecStart=/bin/sh")
    assert_reported(problems_of(estate_data.root), file, path, "must be one line of text")


TLS = server_tls("secret", "Kayapınar", "log1", "log1.example.org", IPv4Address("10.21.17.12"))
STORE_KEY = ssh_client_key("secret", "log seals log1.example.org")
PAYLOAD = "\"; $(touch /tmp/bimkit-pwned) 'x` <b>"


def rendered_outputs(estate_data: EstateData) -> tuple[list[str], list[str]]:
    """Every command and non-JSON file the roles' plans make for every host; and the JSON ones."""
    estate = load_estate(estate_data.root)
    texts: list[str] = []
    documents: list[str] = []
    secrets = {name: "s3cret-Value-1" for name in secret_names(host_of(estate, "dr1"))}
    for name, data in plan_inventory(estate)["linux"]:
        base = plan_base(name, data, in_container=False, forward_tls=None)
        texts += [f.content for f in vars(base).values() if hasattr(f, "content")]
        if data.get("dc_role"):
            texts += [
                dc_plan.krb5_conf(data),
                dc_plan.chrony_dc_conf(data),
                dc_plan.rsyncd_conf(data),
                *dc_plan.sysvol_sync_units(data).values(),
                dc_plan.primary_check_command(data),
                dc_plan.join_command(data),
                dc_plan.provision_command(data),
                *dc_plan.idmap_import_commands(data),
            ]
            if data.get("directory"):
                documents.append(json.dumps(data["directory"]))
        if data.get("backup_policies"):
            agent = plan_agent(name, data)
            texts += list(agent.units.values())
            documents.append(agent.config)
        if data.get("repositories"):
            repository = plan_repository(name, data, secrets)
            texts += list(repository.units.values())
            documents.append(repository.dr_config)
        if data.get("drill"):
            texts += list(drill_units().values())
            documents.append(drill_config(name, data))
        if data.get("log_archive"):
            archive = {**data["log_archive"], "tsa_certificates": "PEM"}
            collector = plan_log_server(name, {**data, "log_archive": archive}, TLS,
                                        tsa_identity("1", "value"), STORE_KEY)  # fmt: skip
            for item in collector.wanted:
                content = getattr(item, "content", None)
                if content is not None:
                    (documents if item.path.endswith(".json") else texts).append(content)
        if data.get("dhcp"):
            documents.append(json.dumps(kea_config(name, data, "x86_64")))
    return texts, documents


def host_of(estate: Any, name: str) -> dict[str, Any]:
    return dict(plan_inventory(estate)["linux"])[name]


def test_free_text_reaches_hosts_only_inside_json(estate_data: EstateData) -> None:
    for file, keys, _ in FREE_TEXT_FIELDS:
        if keys[-1] in ("excludes", "pre_hooks") or keys[0] == "backup_notify":
            continue  # restic patterns and commands: the admin's own, run as written
        put(estate_data, file, keys, f"{keys[-1]} {PAYLOAD}")
    texts, documents = rendered_outputs(estate_data)
    assert texts and documents
    assert not [text for text in texts if "bimkit-pwned" in text]
    carried = [json.loads(document) for document in documents]
    assert any(PAYLOAD in json.dumps(document, ensure_ascii=False) for document in carried)
