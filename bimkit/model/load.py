"""Read the admin's data files once, check everything, and build the Estate.

    estate.yaml            EstateConfig
    sites/*.yaml           SiteFile each
    directory/*.yaml       departments, groups, people, recorded usernames
    group_data/*.py        pyinfra group data (scanned for secrets, never executed here)

Every problem in every file is collected before anything is reported, so an
admin fixes a broken estate in one pass rather than one error per run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bimkit.errors import EstateInvalid, Problem
from bimkit.model.dhcp import fixed_addresses_in_pools
from bimkit.model.estate import Estate, Member, Source
from bimkit.model.resolve import place
from bimkit.model.rules import (
    DEPARTMENTS_FILE,
    ESTATE_FILE,
    GROUPS_FILE,
    PEOPLE_FILE,
    USERNAMES_FILE,
    check_directory,
    check_hosts,
    check_plan,
    check_sites,
    check_telephony_and_ports,
    sign_in_problems,
    unnameable_people,
)
from bimkit.model.schema import (
    DepartmentsFile,
    EstateConfig,
    ExtensionsFile,
    GroupsFile,
    PeopleFile,
    SiteFile,
    UsernamesFile,
)
from bimkit.model.switching import switch_problems
from bimkit.model.telephony import EXTENSIONS_FILE, telephony_problems
from bimkit.model.usernames import UsernameAssignment, assign_usernames

Model = TypeVar("Model", bound=BaseModel)

SECRET_LIKE_NAME = re.compile(
    r"pass(word|wd)?|secret|token|private_key|api_key|access_key", re.IGNORECASE
)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key `{key}` is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, name: str, problems: list[Problem]) -> Any:
    """The YAML document in `path`, or None with a problem recorded."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problems.append(Problem(name, "", f"cannot read: {error.strerror}"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, "", "is not UTF-8 text"))
        return None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"line {mark.line + 1}: " if mark else ""
        problems.append(Problem(name, "", f"{line}YAML error: {error.problem or error}"))
        return None
    if document is None:
        problems.append(Problem(name, "", "the file is empty"))
    return document


def parse(model: type[Model], document: Any, name: str, problems: list[Problem]) -> Model | None:
    """`document` validated as `model`, or None with one problem per pydantic error."""
    if document is None:
        return None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems.extend(_problems_from(error, name))
        return None


RETIRED_FIELDS = {
    "people[].outside_line": "replaced by `calls:`, the outside calls they may make, e.g. "
    "[local, national, mobile] (the default), or [] for the estate's extensions only",
    "phones[].outside_line": "replaced by `calls:`, the outside calls it may make, e.g. "
    "[local] (default: none)",
    "logs.retention_days": "replaced by `retention_years` (calendar years, two at least)",
    "logs.tsa.header": "replaced by `identity: true` (Kamu SM's header, made for each request "
    "from the secrets `tsa_customer_id` and `tsa_password`)",
}
"""Fields an earlier bimkit knew: what to write instead."""


def _problems_from(error: ValidationError, name: str) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        path = _format_location(item["loc"])
        retired = RETIRED_FIELDS.get(re.sub(r"\[\d+\]", "[]", path))
        if item["type"] == "extra_forbidden" and retired:
            problems.append(Problem(name, path, retired))
        elif item["type"] == "extra_forbidden":
            problems.append(Problem(name, path, "unknown field (misspelt, or not a bimkit field)"))
        elif item["type"] == "missing":
            problems.append(Problem(name, path, "is required"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append(Problem(name, path, message))
    return problems


def _format_location(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or part in {"int", "IPv4Address"}:
            continue  # pydantic's names for branches of a union, not a user's field
        else:
            path += f".{part}" if path else part
    return path


def secrets_in_group_data(root: Path) -> list[Problem]:
    """Variables in `group_data/*.py` whose names say they hold a secret.

    Parsed, not executed: a broken or hostile file cannot run code here.
    """
    problems = []
    for path in sorted((root / "group_data").glob("*.py")):
        name = f"group_data/{path.name}"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        except SyntaxError as error:
            problems.append(
                Problem(name, f"line {error.lineno}", f"Python syntax error: {error.msg}")
            )
            continue
        for node in tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else ([node.target] if isinstance(node, ast.AnnAssign) else [])
            )
            for target in targets:
                if isinstance(target, ast.Name) and SECRET_LIKE_NAME.search(target.id):
                    problems.append(
                        Problem(
                            name,
                            target.id,
                            "looks like a secret; secrets come "
                            "from the environment or the secrets directory "
                            "(see `bimkit secrets check`), never from group data",
                        )
                    )
    return problems


def find_root(start: Path | None = None) -> Path:
    """The data root: the nearest folder upwards from `start` holding estate.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ESTATE_FILE).is_file():
            return folder
    raise EstateInvalid([Problem(ESTATE_FILE, "", f"not found in {here} or any folder above it")])


def load_estate(root: Path) -> Estate:
    """Read, check and resolve the estate in `root`; EstateInvalid lists every problem."""
    problems: list[Problem] = []

    def read(model: type[Model], name: str, *, optional: bool = False) -> Model | None:
        path = root / name
        if optional and not path.exists():
            return model.model_validate({})
        return parse(model, read_yaml(path, name, problems), name, problems)

    config = read(EstateConfig, ESTATE_FILE)
    site_files: list[tuple[str, SiteFile]] = []
    site_paths = sorted((root / "sites").glob("*.yaml"))
    if not site_paths:
        problems.append(Problem("sites/", "", "no site files (sites/<name>.yaml)"))
    for path in site_paths:
        name = f"sites/{path.name}"
        site_file = read(SiteFile, name)
        if site_file is not None:
            site_files.append((name, site_file))
    departments = read(DepartmentsFile, DEPARTMENTS_FILE)
    groups = read(GroupsFile, GROUPS_FILE, optional=True)
    people = read(PeopleFile, PEOPLE_FILE, optional=True)
    recorded = read(UsernamesFile, USERNAMES_FILE, optional=True)
    holders = read(ExtensionsFile, EXTENSIONS_FILE, optional=True)
    problems += secrets_in_group_data(root)

    directory = _check_directory(departments, groups, people, recorded, problems)
    if config is None:
        raise EstateInvalid(problems)
    problems += check_plan(config)
    problems += _check_tsa_certificates(root, config)
    placement = place(config, site_files)
    problems += placement.problems
    problems += check_sites(config, site_files, placement.sites)
    phone_macs = [
        (p.phone_mac, Source(PEOPLE_FILE, f"people[{i}].phone_mac"))
        for i, p in enumerate(people.people if people else [])
        if p.phone_mac
    ]
    problems += check_hosts(config, placement.hosts, phone_macs)
    extensions = [
        (p.extension, Source(PEOPLE_FILE, f"people[{i}].extension"))
        for i, p in enumerate(people.people if people else [])
        if p.extension is not None
    ]
    problems += check_telephony_and_ports(site_files, extensions)
    if problems or directory is None:
        raise EstateInvalid(problems)

    usernames = directory.assignment.by_person
    staff = [
        Member(
            person=person,
            username=usernames[person.id],
            email=f"{usernames[person.id]}@{config.domain}",
            source=Source(PEOPLE_FILE, f"people[{index}]"),
        )
        for index, person in enumerate(directory.people.people)
    ]
    estate = Estate(
        config=config,
        sites=placement.sites,
        hosts={host.name: host for host in placement.hosts},
        departments={d.id: d for d in directory.departments.departments},
        groups={g.name: g for g in directory.groups.groups},
        members=staff,
        recorded_usernames=directory.registry,
        retired_usernames=directory.retired,
        new_usernames=directory.assignment.new,
        data_root=root,
        site_phones={site_file.name: tuple(site_file.phones) for _, site_file in site_files},
        extension_holders={
            extension: tuple(history)
            for extension, history in (holders.holders if holders else {}).items()
        },
    )
    problems = fixed_addresses_in_pools(estate) + telephony_problems(estate)
    problems += switch_problems(estate) + sign_in_problems(estate)
    if problems:
        raise EstateInvalid(problems)
    return estate


def _check_tsa_certificates(root: Path, config: EstateConfig) -> list[Problem]:
    name = config.logs.tsa.certificates
    if name is None:
        return []
    path = root / name
    if not path.is_file() or "-----BEGIN CERTIFICATE-----" not in path.read_text(errors="replace"):
        return [
            Problem(
                ESTATE_FILE,
                "logs.tsa.certificates",
                f"{path} is not a PEM file of the TSA's certificates",
            )
        ]
    return []


@dataclass(frozen=True)
class _Directory:
    departments: DepartmentsFile
    groups: GroupsFile
    people: PeopleFile
    registry: dict[str, str]
    retired: dict[str, str]
    assignment: UsernameAssignment


def _check_directory(
    departments: DepartmentsFile | None,
    groups: GroupsFile | None,
    people: PeopleFile | None,
    recorded: UsernamesFile | None,
    problems: list[Problem],
) -> _Directory | None:
    """Directory rules (they need no estate.yaml); None when a file did not parse."""
    if departments is None or groups is None or people is None or recorded is None:
        return None
    registry = dict(recorded.usernames)
    retired = dict(recorded.retired)
    unnameable = unnameable_people(people, registry)
    if unnameable:
        problems.extend(unnameable)
        return None
    assignment = assign_usernames(people.people, registry, retired)
    problems.extend(check_directory(departments, groups, people, registry, retired, assignment))
    return _Directory(departments, groups, people, registry, retired, assignment)
