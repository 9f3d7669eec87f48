"""Secrets: which ones the estate needs, and reading them safely.

A secret comes from the environment (`BIMKIT_AD_ADMIN_PASSWORD`) or from a
file in the secrets directory (`$BIMKIT_SECRETS_DIR/ad_admin_password`,
default /etc/bimkit/secrets) that only its owner can read; the environment
wins. Values are held as `SecretStr` so that printing or logging one shows
`**********`, and nothing here ever puts a value into a message.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, create_model
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from bimkit.errors import SecretsError
from bimkit.lab.state import LabPaths, lab_enabled
from bimkit.model.estate import Estate
from bimkit.model.platforms import PLATFORMS
from bimkit.model.schema import Role

ENV_PREFIX = "BIMKIT_"
DEFAULT_SECRETS_DIR = Path("/etc/bimkit/secrets")


@dataclass(frozen=True, order=True)
class SecretSpec:
    """A secret the estate needs: its name, what it is for, and who uses it."""

    name: str
    purpose: str
    used_by: str
    digits: bool = False
    """A number, not a password (the lab makes one of digits)."""

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


S3_KEY_NAMES = ("access_key_id", "secret_access_key")
S3_KEY_MEANINGS = ("access key id", "secret access key")


def secret_key(host: str) -> str:
    """Host names may hold '-', which environment variable names cannot."""
    return host.replace("-", "_")


def required_secrets(estate: Estate) -> list[SecretSpec]:
    """Every secret the estate's roles and DR jobs need, by name (pure)."""
    dcs = ", ".join(dc.name for dc in estate.domain_controllers)
    specs = [SecretSpec("ad_admin_password", "Active Directory Administrator password", dcs)]
    protected = [host for host in estate.hosts.values() if host.protected_services]
    dr_hosts = ", ".join(h.name for h in estate.hosts_with(Role.backup_server)) or "-"
    s3 = estate.config.dr_repository == "s3"
    for host in protected:
        key = secret_key(host.name)
        specs.append(
            SecretSpec(
                f"restic_password_{key}",
                "restic repository password (encrypts the host's backups)",
                host.name,
            )
        )
        if s3:
            specs += [
                SecretSpec(f"s3_{name}_{key}", f"the host's own S3 {what}", host.name)
                for name, what in zip(S3_KEY_NAMES, S3_KEY_MEANINGS, strict=True)
            ]
        else:
            specs.append(
                SecretSpec(
                    f"repository_password_{key}",
                    "append-only DR repository credential (can add, cannot delete)",
                    host.name,
                )
            )
    if s3:
        specs += [
            SecretSpec(f"s3_{name}", f"the DR jobs' S3 {what} (retention, checks)", dr_hosts)
            for name, what in zip(S3_KEY_NAMES, S3_KEY_MEANINGS, strict=True)
        ]
    elif protected:
        specs.append(
            SecretSpec(
                "dr_admin_password",
                "DR repository admin credential (retention and checks, DR host only)",
                dr_hosts,
            )
        )
    log_servers = estate.hosts_with(Role.log_server)
    if (protected and not s3) or log_servers:
        users = [dr_hosts] if protected and not s3 else []
        users += ["every Linux host (log forwarding)"] if log_servers else []
        specs.append(
            SecretSpec(
                "dr_ca_secret",
                "seed of the estate's TLS CA: DR repository, log collection (bimkit.tls)",
                ", ".join(users),
            )
        )
    pbx = ", ".join(h.name for h in estate.hosts_with(Role.pbx))
    if pbx:
        specs.append(SecretSpec("pbx_secret", "seed of every SIP password and voicemail PIN", pbx))
        if estate.config.telephony.trunk:
            specs.append(SecretSpec("sip_trunk_password", "the operator's SIP trunk", pbx))
    switches = ", ".join(h.name for h in estate.hosts_with(Role.switch) if h.os in PLATFORMS)
    if switches:
        login = estate.config.switching.login_user
        specs += [
            SecretSpec(
                "switch_password",
                f"password of `{login}`, bimkit's account on every switch",
                switches,
            ),
            SecretSpec(
                "snmp_auth_password", "SNMPv3 authentication password (monitoring)", switches
            ),
            SecretSpec("snmp_priv_password", "SNMPv3 privacy password (monitoring)", switches),
        ]
    if log_servers and estate.config.logs.tsa.identity:
        names = ", ".join(h.name for h in log_servers)
        specs += [
            SecretSpec("tsa_customer_id", "Kamu SM's customer number for time stamps (digits)",
                       names, digits=True),
            SecretSpec("tsa_password", "Kamu SM's time stamp password (the identity header "
                       "is made from it for each request)", names),
        ]  # fmt: skip
    return specs


def secrets_dir() -> Path:
    """BIMKIT_SECRETS_DIR; else, with BIMKIT_LAB set, the lab's own; else /etc/bimkit/secrets."""
    if os.environ.get("BIMKIT_SECRETS_DIR"):
        return Path(os.environ["BIMKIT_SECRETS_DIR"])
    if lab_enabled():
        return LabPaths.from_env().secrets
    return DEFAULT_SECRETS_DIR


def refuse_readable_files(directory: Path) -> None:
    """Raise SecretsError naming every file in `directory` that group or others can read."""
    if not directory.is_dir():
        return
    exposed = []
    for path in sorted(directory.iterdir()):
        mode = path.stat().st_mode
        if stat.S_ISREG(mode) and mode & 0o077:
            exposed.append(f"{path} (mode {stat.S_IMODE(mode):04o})")
    if exposed:
        listing = "\n  ".join(exposed)
        raise SecretsError(
            f"refusing secret files that group or others can read or write:\n  {listing}\n"
            f"fix with: chmod 600 {' '.join(p.split(' ')[0] for p in exposed)}"
        )


class _SecretsBase(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            EnvSettingsSource(settings_cls, env_prefix=ENV_PREFIX)
        ]
        directory = secrets_dir()
        if directory.is_dir():
            sources.append(
                SecretsSettingsSource(settings_cls, secrets_dir=directory, env_prefix="")
            )
        return tuple(sources)


@dataclass(frozen=True)
class Secrets:
    """The estate's secrets as read, and where each came from (never the value)."""

    values: dict[str, SecretStr]
    sources: dict[str, str]

    def get(self, name: str) -> str:
        """The value of secret `name`; SecretsError telling how to set it when unset."""
        try:
            return self.values[name].get_secret_value()
        except KeyError:
            raise SecretsError(
                f"secret `{name}` is not set: export {ENV_PREFIX}{name.upper()} or write it "
                f"to {secrets_dir() / name} (mode 0600)"
            ) from None


def load_secrets(specs: list[SecretSpec]) -> Secrets:
    """Read the secrets `specs` names, from the environment and the secrets directory."""
    directory = secrets_dir()
    refuse_readable_files(directory)
    fields: dict[str, Any] = {spec.name: (SecretStr | None, None) for spec in specs}
    model = create_model("EstateSecrets", __base__=_SecretsBase, **fields)
    read = model()
    values: dict[str, SecretStr] = {}
    sources: dict[str, str] = {}
    for spec in specs:
        value = getattr(read, spec.name)
        if value is None or not value.get_secret_value():
            continue
        values[spec.name] = value
        in_env = any(key.upper() == spec.env_var for key in os.environ)
        sources[spec.name] = (
            f"environment ({spec.env_var})" if in_env else str(directory / spec.name)
        )
    return Secrets(values=values, sources=sources)
