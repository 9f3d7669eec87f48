"""Secrets: what the estate needs, where each comes from, and refusing unsafe files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bimkit.errors import SecretsError
from bimkit.model.load import load_estate
from bimkit.secrets import SecretSpec, load_secrets, required_secrets
from tests.conftest import REPO, EstateData
from tests.unit.test_validation import setter


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv("BIMKIT_SECRETS_DIR", str(directory))
    for name in list(os.environ):
        if name.startswith("BIMKIT_") and name != "BIMKIT_SECRETS_DIR":
            monkeypatch.delenv(name)
    return directory


def write_secret(directory: Path, name: str, value: str, mode: int = 0o600) -> Path:
    path = directory / name
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def test_required_secrets_follow_the_estate() -> None:
    names = [spec.name for spec in required_secrets(load_estate(REPO))]
    assert names[0] == "ad_admin_password"
    assert {"restic_password_dc1", "repository_password_dc1", "restic_password_pbx1"} <= set(names)
    assert {"dr_ca_secret", "dr_admin_password"} <= set(names)
    assert not any("dc2" in name or "ws" in name for name in names)
    assert "s3_secret_access_key" not in names


def test_s3_repository_adds_s3_keys(estate_data: EstateData) -> None:
    estate_data.edit("estate.yaml", setter("dr_repository", value="s3"))
    estate_data.edit(
        "estate.yaml",
        setter("dr_s3", value={"endpoint": "http://127.0.0.1:9000", "bucket": "kayapinar-dr"}),
    )
    names = [spec.name for spec in required_secrets(load_estate(estate_data.root))]
    assert {"s3_access_key_id", "s3_secret_access_key"} <= set(names)
    assert {"s3_access_key_id_dc1", "s3_secret_access_key_pbx1"} <= set(names), "one key per host"
    assert not {"repository_password_dc1", "dr_admin_password"} & set(names), (
        "rest-server credentials are not asked for"
    )
    ca = next(spec for spec in required_secrets(load_estate(estate_data.root))
              if spec.name == "dr_ca_secret")  # fmt: skip
    assert ca.used_by == "every Linux host (log forwarding)", "the log collector's TLS needs it"


def test_host_names_with_dashes_become_valid_variable_names() -> None:
    spec = SecretSpec("restic_password_fen_ws01", "", "fen-ws01")
    assert spec.env_var == "BIMKIT_RESTIC_PASSWORD_FEN_WS01"


SPECS = [
    SecretSpec("ad_admin_password", "AD", "dc1"),
    SecretSpec("restic_password_dc1", "r", "dc1"),
]


def test_secret_read_from_a_private_file(secrets_dir: Path) -> None:
    write_secret(secrets_dir, "ad_admin_password", "Gizli-Parola-1")
    secrets = load_secrets(SPECS)
    assert secrets.get("ad_admin_password") == "Gizli-Parola-1"
    assert secrets.sources["ad_admin_password"] == str(secrets_dir / "ad_admin_password")


def test_environment_wins_over_the_file(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_secret(secrets_dir, "ad_admin_password", "from-file")
    monkeypatch.setenv("BIMKIT_AD_ADMIN_PASSWORD", "from-env")
    secrets = load_secrets(SPECS)
    assert secrets.get("ad_admin_password") == "from-env"
    assert secrets.sources["ad_admin_password"] == "environment (BIMKIT_AD_ADMIN_PASSWORD)"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_world_readable_secret_file_is_refused(secrets_dir: Path, mode: int) -> None:
    path = write_secret(secrets_dir, "restic_password_dc1", "x", mode=mode)
    with pytest.raises(SecretsError) as caught:
        load_secrets(SPECS)
    message = str(caught.value)
    assert str(path) in message and f"mode {mode:04o}" in message
    assert f"chmod 600 {path}" in message


def test_missing_secret_says_how_to_set_it_without_a_value(secrets_dir: Path) -> None:
    secrets = load_secrets(SPECS)
    with pytest.raises(SecretsError, match="export BIMKIT_RESTIC_PASSWORD_DC1 or write"):
        secrets.get("restic_password_dc1")


def test_empty_secret_counts_as_missing(secrets_dir: Path) -> None:
    write_secret(secrets_dir, "ad_admin_password", "   ")
    assert "ad_admin_password" not in load_secrets(SPECS).values


def test_secret_values_are_masked_in_repr(secrets_dir: Path) -> None:
    write_secret(secrets_dir, "ad_admin_password", "Gizli-Parola-1")
    secrets = load_secrets(SPECS)
    assert "Gizli-Parola-1" not in repr(secrets) and "Gizli-Parola-1" not in str(secrets)
