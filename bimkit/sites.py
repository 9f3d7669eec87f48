"""New unit sites from templates: a site file rendered from `templates/site/`, checked first.

A template is `templates/site/<name>.yaml.j2` and `<name>.meta.yaml` (its
description, the switch's port count and uplinks, its parameters with
defaults and limits). A municipality adds its own beside bimkit's, in the
data folder's `templates/site/`. Everything here but `write` is pure:
parameters are checked, the number's address block, the extension range,
host names and the switch's port plan are planned, the file is rendered,
and the whole estate with the new file must validate before it is written.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from bimkit.errors import BimkitError, EstateInvalid
from bimkit.model.addressing import AddressPlanError, site_block
from bimkit.model.estate import Estate
from bimkit.model.load import load_estate
from bimkit.model.names import HOSTNAME_PATTERN, hostname_label
from bimkit.resources import SITE_TEMPLATES

TEMPLATE_DIR = "templates/site"
DATA_PARTS = ("estate.yaml", "sites", "directory", "group_data")
EXTENSION_BLOCK = 100
"""Each site gets a hundred extensions: 1000 + 100 x number, or the next free hundred."""


class SiteRefused(BimkitError):
    """`bimkit site new` will not make this site; the message says why."""


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class SiteTemplate:
    name: str
    description: str
    switch_ports: int
    uplinks: int
    parameters: Mapping[str, Parameter]
    folder: Path


def template_folders(data_root: Path) -> list[Path]:
    """The data folder's own templates first, then bimkit's."""
    return [data_root / TEMPLATE_DIR, SITE_TEMPLATES]


def site_templates(data_root: Path) -> dict[str, SiteTemplate]:
    found: dict[str, SiteTemplate] = {}
    for folder in template_folders(data_root):
        for meta in sorted(folder.glob("*.meta.yaml")) if folder.is_dir() else []:
            name = meta.name.removesuffix(".meta.yaml")
            if name in found or not (folder / f"{name}.yaml.j2").is_file():
                continue
            document = yaml.safe_load(meta.read_text(encoding="utf-8")) or {}
            found[name] = SiteTemplate(
                name=name,
                description=str(document.get("description", "")),
                switch_ports=int(document["switch_ports"]),
                uplinks=int(document.get("uplinks", 1)),
                parameters={
                    key: Parameter(
                        name=key,
                        default=spec.get("default"),
                        minimum=spec.get("min"),
                        maximum=spec.get("max"),
                        choices=tuple(spec.get("choices", ())),
                        help=str(spec.get("help", "")),
                    )
                    for key, spec in (document.get("parameters") or {}).items()
                },
                folder=folder,
            )
    return found


def site_name(text: str) -> str:
    """A site (and host-name) prefix from what the admin typed; Turkish letters folded."""
    try:
        name = hostname_label(text)
    except ValueError as error:
        raise SiteRefused(f"site name `{text}` cannot be a host name: {error}") from None
    # Host names get `-ws01` and the like: keep room for them in a 63-character label.
    if len(name) > 40 or not HOSTNAME_PATTERN.match(name):
        raise SiteRefused(f"site name `{text}` cannot be a host name (`{name}`): too long")
    return name


def parameter_values(template: SiteTemplate, given: Mapping[str, Any]) -> dict[str, Any]:
    """The template's defaults with the admin's values, each within its limits."""
    unknown = sorted(set(given) - set(template.parameters))
    if unknown:
        raise SiteRefused(
            f"template `{template.name}` has no parameter {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(template.parameters))})"
        )
    values = {}
    for name, parameter in template.parameters.items():
        value = given.get(name, parameter.default)
        if parameter.choices and value not in parameter.choices:
            raise SiteRefused(
                f"{name} `{value}` is not one of {', '.join(parameter.choices)} "
                f"(template `{template.name}`)"
            )
        low, high = parameter.minimum, parameter.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise SiteRefused(
                f"{name} {value} is outside {low}-{high} for template `{template.name}`"
            )
        values[name] = value
    return values


def port_plan(template: SiteTemplate, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Workstations, then phones, then cameras from port 1; the uplinks are the last ports."""
    plan = []
    port = 1
    for use, count in (
        ("workstation", values.get("workstations", 0)),
        ("phone", values.get("phones", 0)),
        ("camera", values.get("cameras", 0)),
    ):
        if count:
            plan.append({"first": port, "last": port + count - 1, "use": use})
            port += count
    access = template.switch_ports - template.uplinks
    if port - 1 > access:
        raise SiteRefused(
            f"template `{template.name}` has {access} access ports; {port - 1} are asked for "
            f"(workstations, phones and cameras): choose a larger template"
        )
    plan.append({"first": access + 1, "last": template.switch_ports, "use": "uplink"})
    return plan


def extension_range(estate: Estate, site_files: Mapping[str, Any], number: int) -> dict[str, int]:
    """1000 + 100 x number if free, else the next free hundred (no site range, no person)."""
    taken = [
        (document["extensions"]["first"], document["extensions"]["last"])
        for document in site_files.values()
        if isinstance(document, dict) and document.get("extensions")
    ]
    people = {m.person.extension for m in estate.members if m.person.extension is not None}
    first = 1000 + EXTENSION_BLOCK * number
    while first + EXTENSION_BLOCK - 1 <= 99999:
        last = first + EXTENSION_BLOCK - 1
        free = all(last < low or high < first for low, high in taken)
        if free and not any(first <= extension <= last for extension in people):
            return {"first": first, "last": last}
        first += EXTENSION_BLOCK
    raise SiteRefused("no free hundred of extensions is left")


def check_new_site(
    estate: Estate, data_root: Path, name: str, number: int, replacing: bool = False
) -> None:
    """Refuse a name or number in use, or a block outside the supernet or overlapping.

    `replacing`: the site `name` is being made anew (`--force`); its own file does not count.
    """
    if not replacing and (name in estate.sites or (data_root / "sites" / f"{name}.yaml").exists()):
        raise SiteRefused(
            f"a site `{name}` exists already (sites/{name}.yaml); --force replaces it "
            "after showing the difference"
        )
    others = [site for site in estate.sites.values() if site.name != name]
    for site in others:
        if site.number == number:
            raise SiteRefused(f"site number {number} is taken by `{site.name}`")
    config = estate.config
    try:
        block = site_block(config.supernet, config.site_prefix_length, number)
    except AddressPlanError as error:
        raise SiteRefused(str(error)) from None
    for site in others:
        for vlan in site.vlans.values():
            if vlan.subnet.overlaps(block):
                raise SiteRefused(
                    f"site number {number}'s block {block} overlaps {site.name}'s "
                    f"{vlan.kind} subnet {vlan.subnet}"
                )


def render_site(template: SiteTemplate, context: Mapping[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Titles are free text: JSON strings are YAML strings, quoted and escaped.
    environment.filters["yaml_string"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    return environment.get_template(f"{template.name}.yaml.j2").render(**context)


@dataclass(frozen=True)
class NewSite:
    name: str
    text: str
    estate: Estate
    """The estate with the new site, validated."""


def new_site(
    data_root: Path,
    estate: Estate,
    name: str,
    number: int,
    title: str,
    template_name: str,
    given: Mapping[str, Any],
    replacing: bool = False,
    prefix: str | None = None,
    departments: Sequence[str] = (),
) -> NewSite:
    """The new site file, rendered and validated with the rest of the estate (not written).

    `prefix` starts the host names (`fen` gives `fen-ws01`); default: the site's name.
    `departments` are housed there: their staff sign in at its workstations.
    """
    templates = site_templates(data_root)
    if template_name not in templates:
        raise SiteRefused(
            f"no site template `{template_name}` (there are: {', '.join(sorted(templates))})"
        )
    template = templates[template_name]
    name = site_name(name)
    check_new_site(estate, data_root, name, number, replacing)
    values = parameter_values(template, given)
    site_files = {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((data_root / "sites").glob("*.yaml"))
        if path.name != f"{name}.yaml"
    }
    context = {
        **values,
        "name": name,
        "prefix": site_name(prefix) if prefix else name,
        "number": number,
        "title": title,
        "departments": [site_name(d) for d in departments],
        "extensions": extension_range(estate, site_files, number),
        "ports": port_plan(template, values),
    }
    text = render_site(template, context)
    return NewSite(name, text, validated(data_root, name, text))


def copy_estate_data(source: Path, target: Path) -> None:
    """The admin's data files (not templates, not caches) from `source` into `target`."""
    for part in DATA_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        elif (source / part).exists():
            shutil.copy2(source / part, target / part)


def validated(data_root: Path, name: str, text: str) -> Estate:
    """The estate as it would be with the new file; SiteRefused with every problem if invalid."""
    with tempfile.TemporaryDirectory(prefix="bimkit-site-") as scratch:
        root = Path(scratch)
        copy_estate_data(data_root, root)
        (root / "sites" / f"{name}.yaml").write_text(text, encoding="utf-8")
        try:
            return load_estate(root)
        except EstateInvalid as invalid:
            raise SiteRefused(
                f"the new sites/{name}.yaml would break the estate:\n{invalid}"
            ) from None


def diff(old: str, new: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"sites/{name}.yaml (now)",
            f"sites/{name}.yaml (new)",
        )
    )


def write(data_root: Path, name: str, text: str) -> Path:
    """Write sites/<name>.yaml atomically: a file is there whole or not at all."""
    path = data_root / "sites" / f"{name}.yaml"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path
