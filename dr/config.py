"""The JSON files in /etc/bimkit, defined once: the control side builds them, hosts load them.

    BackupConfig   /etc/bimkit/backup.json   a protected host's services and repository
    DrConfig       /etc/bimkit/dr.json       the DR host's repositories and their policies
    DrillConfig    /etc/bimkit/drill.json    the DR host's restore drills
    LogsConfig     /etc/bimkit/logs.json     the log server's archive, its TSA and retention

Plain dataclasses and the standard library: `to_json` writes what `load`
reads, and a file that does not fit its definition is refused with the field
that is wrong, naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from dr.errors import DrError

T = TypeVar("T")


class ConfigInvalid(DrError):
    """A configuration file is unreadable or does not fit its definition."""


@dataclass(frozen=True)
class Notify:
    """Who hears about a failed backup or drill: a command, a webhook, mail (or the journal)."""

    command: str | None = None
    webhook: str | None = None
    mail_to: str | None = None


@dataclass(frozen=True)
class RepositoryAccess:
    """How a host opens its repository: file names only, never a secret (see dr.restic)."""

    url: str
    password_file: str
    owner: str
    cache_dir: str | None = None
    repository_file: str | None = None
    cacert: str | None = None
    credentials_file: str | None = None


@dataclass(frozen=True)
class ServiceBackup:
    """One protected service as its host backs it up."""

    paths: list[str]
    excludes: list[str] = field(default_factory=list)
    pre_hooks: list[str] = field(default_factory=list)
    post_hooks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BackupConfig:
    host: str
    repository: RepositoryAccess
    metrics_dir: str
    notify: Notify
    services: dict[str, ServiceBackup]


@dataclass(frozen=True)
class Retention:
    daily: int = 7
    weekly: int = 5
    monthly: int = 12
    yearly: int = 3


@dataclass(frozen=True)
class ServiceRetention:
    """What the DR host keeps of one service and how old its last snapshot may be."""

    retention: Retention
    rpo_seconds: int


@dataclass(frozen=True)
class DrConfig:
    admin_url: str
    """`rest:http://127.0.0.1:8001` (the admin rest-server) or the S3 bucket's URL."""
    data_dir: str | None
    """The rest-server's repositories on this host; None with S3."""
    credentials_dir: str
    cache_dir: str
    master_keys: str
    repositories: dict[str, dict[str, ServiceRetention]]
    """host -> service -> its retention and RPO."""
    timezone: str = "UTC"
    credentials_file: str | None = None
    """With S3: the DR jobs' access key (an AWS credentials file)."""


@dataclass(frozen=True)
class DrillService:
    """One protected service as the restore drill proves it."""

    paths: list[str]
    verify: list[str]
    rpo_seconds: int
    rto_seconds: int
    allow_empty: bool = False


@dataclass(frozen=True)
class DrillConfig:
    dr_host: str
    municipality: str
    realm: str
    services: dict[str, dict[str, DrillService]]
    """host -> service -> what to verify and the targets."""
    production_addresses: list[str]
    """Addresses the sandbox must not reach: the DCs, the protected hosts, the DR host."""
    dr_config: str
    work_dir: str
    reports_dir: str
    image_cache: str
    specs_dir: str
    mirror: str
    sandbox_address: str
    notify: Notify
    timezone: str = "UTC"
    http_proxy: str | None = None
    sample_percent: float = 100
    tolerance_percent: float = 0
    lang: str = "tr"
    seal_stores: str | None = None
    """Where the log servers' chains are copied on this host: <dir>/<log server>/ (the
    `log-seals` check verifies a restored archive against it)."""
    tsa_ca_file: str | None = None
    """The TSA's CA certificates as the data names them: the chain's tokens must be stamped
    under them (all but the history before they were first used)."""
    pbx_release: str = "sid"
    """The PBX's Debian release: its drill's sandbox runs the same (Asterisk needs unstable)."""


@dataclass(frozen=True)
class TimeStampAuthority:
    """The RFC 3161 TSA that seals each day's manifest."""

    url: str
    ca_file: str
    """PEM on the host: the certificates a fresh token's signer must chain to."""
    identity_file: str | None = None
    """Root-only JSON `{"customer_id": N, "password": "..."}`: Kamu SM's per-request
    `identity` header is made from it (dr.logs.kamusm)."""
    timeout_seconds: float = 30


@dataclass(frozen=True)
class SealStore:
    """Where the chain is copied as it is made: the DR host, over SSH, add-only (dr.logs.store)."""

    address: str
    key_file: str
    known_hosts_file: str
    user: str = "bimkit-seals"
    port: int = 22


@dataclass(frozen=True)
class LogsConfig:
    root: str
    """The archive: <root>/<YYYY-MM-DD>/<source>.log"""
    timezone: str
    """Days begin at midnight in this zone."""
    log_server: str
    """This host's name in the realm: every record of the chain names it."""
    tsa: TimeStampAuthority
    municipality: str = ""
    """Who keeps the archive, for the evidence package's handover record."""
    retention_years: int = 2
    """A day goes only once it is older than the same date this many years before."""
    store: SealStore | None = None
    longest_lease_seconds: int = 86400
    """The search looks back this far for the lease that covers a moment."""
    static_addresses: dict[str, str] = field(default_factory=dict)
    """address -> who holds it by the data (a server, a reserved phone or desk)."""
    notify: Notify = field(default_factory=Notify)
    """Who hears about a day the TSA did not stamp (the seal unit failed)."""


def to_json(config: Any) -> str:
    """The file's text: stable (sorted keys), UTF-8 as it is, ending in a newline."""
    return (
        json.dumps(dataclasses.asdict(config), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )


def load(kind: type[T], path: str) -> T:
    """The configuration in `path`; ConfigInvalid naming the file and the field that is wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise ConfigInvalid(f"{path}: cannot read the configuration: {error}") from None
    try:
        return from_data(kind, document)
    except (TypeError, ValueError) as error:
        raise ConfigInvalid(f"{path}: {error}") from None


def from_data(kind: type[T], data: Any, where: str = "") -> T:
    """`data` (parsed JSON) as `kind`, checked field by field; unknown fields are refused."""
    if not isinstance(data, dict):
        raise TypeError(f"{where or 'the file'}: expected an object")
    hints = get_type_hints(kind)
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise TypeError(f"{where or 'the file'}: unknown field {unknown[0]!r}")
    values = {name: _value(hints[name], data[name], _at(where, name)) for name in data}
    try:
        return kind(**values)
    except TypeError as error:  # a required field is missing
        raise TypeError(f"{where or 'the file'}: {error}") from None


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _value(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        (hint,) = [option for option in options if option is not type(None)]
        return _value(hint, value, where)
    if dataclasses.is_dataclass(hint):
        return from_data(typing.cast(type[Any], hint), value, where)
    if origin is dict:
        _, item = get_args(hint)
        _expect(isinstance(value, dict), where, "an object")
        return {key: _value(item, entry, f"{where}.{key}") for key, entry in value.items()}
    if origin is list:
        (item,) = get_args(hint)
        _expect(isinstance(value, list), where, "a list")
        return [_value(item, entry, f"{where}[{i}]") for i, entry in enumerate(value)]
    if hint is float:
        _expect(isinstance(value, int | float) and not isinstance(value, bool), where, "a number")
        return value
    _expect(isinstance(value, hint) and not (hint is int and isinstance(value, bool)), where,
            hint.__name__)  # fmt: skip
    return value


def _expect(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise TypeError(f"{where}: expected {what}")
