"""Values that reach shell commands and rendered files: validated as what they are, or quoted.

Strict fields (DNS names, URLs, paths, calendar expressions, names) refuse
every hostile value at their own path. Free text (titles, names,
descriptions) may hold quotes and `$()`, but never a newline. No command or
unit file carries it (it reaches those roles inside JSON); the files that
show it (Asterisk's, the phones', smb.conf, /etc/issue, the switches') get it
in a form their format cannot be broken by.
"""

from __future__ import annotations

import dataclasses
import json
import re
from ipaddress import IPv4Address
from typing import Any
from xml.etree import ElementTree

import pytest

from bimkit.inventory import plan_inventory
from bimkit.model.load import load_estate
from bimkit.model.schema import Role
from bimkit.model.switching import switch_plan
from bimkit.tls import server_tls, ssh_client_key
from roles.backup_agent.plan import plan_agent
from roles.base.plan import plan_base
from roles.dhcp_server.plan import kea_config
from roles.domain_controller import plan as dc_plan
from roles.dr_drill.plan import drill_config, drill_units
from roles.dr_repository.plan import plan_repository, secret_names
from roles.file_server.plan import before_join
from roles.log_server.plan import plan_log_server, tsa_identity
from roles.pbx.plan import plan_pbx
from roles.switch.plan import intended_config
from roles.workstation import plan as workstation_plan
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
    if keys[0] in ("dhcp", "workstations"):
        estate_data.edit(file, lambda document: document.setdefault(keys[0], {}))
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


HOSTILE_TEXT = "Ad\"; $(touch /tmp/bimkit-pwned) 'x` <b>&amp; %U, ?|\\"
"""Quotes, `;` and `,` (Asterisk's comment and field signs), `$()` and backticks, XML, Samba's
`%U`, the `?` of switch CLIs, and a trailing backslash (smb.conf's line continuation)."""

EVERY_TEXT = [
    *FREE_TEXT_FIELDS,
    ("directory/people.yaml", ("people", 0, "given_name"), ""),
    ("directory/departments.yaml", ("departments", 0, "name"), ""),
    ("sites/zabita.yaml", ("hosts", 0, "ports", 2, "description"), ""),
    ("estate.yaml", ("workstations", "banner"), ""),
]


def every_rendered_file(estate_data: EstateData) -> dict[str, str]:
    """host:path -> content, for the PBX (Asterisk, provisioning), the file server, the
    workstations, Kea and the switches, from the data in `estate_data`."""
    estate = load_estate(estate_data.root)
    hosts = dict(plan_inventory(estate)["linux"])
    files: dict[str, str] = {}

    def add(host: str, states: Any) -> None:
        for state in states:
            if getattr(state, "content", None) is not None:
                files[f"{host}:{state.path}"] = state.content

    add("pbx1", plan_pbx(hosts["pbx1"]["pbx"], "pbx secret", "trunk password").wanted)
    add("fs1", before_join("fs1", hosts["fs1"]))
    for name, data in hosts.items():
        if "workstation" in data:
            add(name, [*workstation_plan.before_join(data), *workstation_plan.wanted(data)])
        if data.get("dhcp"):
            files[f"{name}:kea-dhcp4.conf"] = json.dumps(kea_config(name, data, "x86_64"))
    for placed in estate.hosts.values():
        if placed.has(Role.switch):
            plan = json.loads(json.dumps(dataclasses.asdict(switch_plan(estate, placed)),
                                         default=str))  # fmt: skip
            files[f"{placed.name}:running-config"] = intended_config(plan)
    return files


def test_hostile_text_cannot_break_any_file_the_roles_render(estate_data: EstateData) -> None:
    """Free text that is allowed (one line, any printable characters) reaches each format
    in a form it cannot break out of: no `;` that would cut an Asterisk line short, no extra
    field or quote, XML that parses, no smb.conf line continued into the next, nothing but
    letters, digits and plain punctuation in a switch's port names."""
    for file, keys, _ in EVERY_TEXT:
        put(estate_data, file, keys, f"{keys[-1]} {HOSTILE_TEXT}")
    files = every_rendered_file(estate_data)
    assert any(name.startswith("pbx1:") for name in files) and any(
        name.endswith("running-config") for name in files)  # fmt: skip
    for name, content in files.items():
        lines = content.splitlines()
        if name.startswith("pbx1:/etc/asterisk/"):
            for line in lines:
                if not line.lstrip().startswith(";"):
                    assert ";" not in line, f"{name}: {line}"
            for line in lines:
                if line.startswith("callerid="):
                    assert re.fullmatch(r'callerid="[^"]*" <\d+>', line), f"{name}: {line}"
                if name.endswith("voicemail.conf") and re.match(r"\d+ => ", line):
                    assert line.count(",") == 4, f"{name}: {line}"
        elif name.endswith((".xml", ".xml.j2")):
            ElementTree.fromstring(content)  # raises when the text broke the XML
        elif name.endswith(".cfg"):
            for line in lines:
                assert not line.strip() or line.startswith("#") or re.match(
                    r"[\w.]+ = ", line), f"{name}: {line}"  # fmt: skip
        elif name.endswith("smb.conf"):
            assert not [line for line in lines if line.rstrip().endswith("\\")], name
            assert "%U, " not in content, "Samba would put the user's name there"
        elif name.endswith("running-config"):
            for line in lines:
                if line.strip().startswith(("description ", "name ")):
                    text = line.strip().split(" ", 1)[1].strip('"')
                    assert re.fullmatch(r"[a-z0-9 ._/()-]{1,64}", text), f"{name}: {line}"
        elif name.endswith("kea-dhcp4.conf"):
            json.loads(content)
        elif name.endswith("/etc/issue"):
            assert "\\" not in content, "agetty reads `\\` escapes in /etc/issue"
