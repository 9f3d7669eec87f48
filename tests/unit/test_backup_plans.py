"""roles/dr_repository, roles/backup_agent and the DR tool's pure parts, without hosts."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from dr import jobs, restic
from dr.config import BackupConfig, ConfigInvalid, DrConfig, from_data, load
from dr.paths import REPOSITORY_FILE, S3_CREDENTIALS_FILE
from roles.backup_agent.plan import plan_agent, repository_url
from roles.domain_controller.plan import AD_BACKUP_HOOK
from roles.dr_repository.plan import (
    ADMIN_PORT,
    _derived_salt,
    htpasswd,
    plan_repository,
    secret_names,
)
from tests.conftest import example_host_data

DATA = example_host_data()
SECRETS = {
    "dr_ca_secret": "ca-seed",
    "dr_admin_password": "admin-S3cret",
    **{f"repository_password_{h}": f"{h}-S3cret" for h in ("dc1", "dr1", "fs1", "log1", "pbx1")},
}


def test_rest_server_is_append_only_private_and_tls() -> None:
    plan = plan_repository("dr1", DATA["dr1"], SECRETS)
    assert plan.rest is not None and plan.s3_credentials is None
    args = plan.rest.defaults.split('ARGS = "', 1)[1]
    for flag in ("--append-only", "--private-repos", "--tls ", "--htpasswd-file"):
        assert flag in args
    assert plan.hosts == ("dc1", "dr1", "fs1", "log1", "pbx1")


def test_each_host_has_its_own_credential_with_a_random_salt() -> None:
    lines = dict(line.split(":", 1) for line in htpasswd({"dc1": "a", "fs1": "b"}).splitlines())
    assert bcrypt.checkpw(b"a", lines["dc1"].encode())
    assert not bcrypt.checkpw(b"b", lines["dc1"].encode())
    # Random salts: the same password never hashes the same twice, and the salt
    # is not derived from the password (which one SHA-256 per guess would test).
    assert htpasswd({"dc1": "a"}) != htpasswd({"dc1": "a"})
    salts = {htpasswd({"dc1": "a"}).split("$")[3][:22] for _ in range(3)}
    assert len(salts) == 3


def test_htpasswd_keeps_lines_whose_password_still_matches() -> None:
    current = htpasswd({"dc1": "a", "fs1": "b", "eski": "c"})
    again = htpasswd({"dc1": "a", "fs1": "b"}, current)
    assert again == "".join(line + "\n" for line in current.splitlines() if line[:4] != "eski")
    changed = dict(line.split(":", 1) for line in htpasswd({"dc1": "a", "fs1": "x"}, current)
                   .splitlines())  # fmt: skip
    assert changed["dc1"] == dict(line.split(":", 1) for line in current.splitlines())["dc1"]
    assert bcrypt.checkpw(b"x", changed["fs1"].encode())


def test_the_admin_instance_is_loopback_only_and_its_credential_stays_out_of_units() -> None:
    plan = plan_repository("dr1", DATA["dr1"], SECRETS)
    unit = plan.units["bimkit-rest-admin.service"]
    assert f"--listen 127.0.0.1:{ADMIN_PORT}" in unit and "--append-only" not in unit
    assert plan.rest is not None
    assert (
        plan.rest.admin_urls["dc1"] == f"rest:http://admin:admin-S3cret@127.0.0.1:{ADMIN_PORT}/dc1/"
    )
    assert not [name for name, content in plan.units.items() if "S3cret" in content]
    assert "S3cret" not in plan.dr_config
    config = json.loads(plan.dr_config)
    assert config["repositories"]["dc1"]["active-directory"]["rpo_seconds"] == 86400


def test_the_dc_backs_up_its_ad_backup_after_making_it() -> None:
    plan = plan_agent("dc1", DATA["dc1"])
    config: dict[str, Any] = json.loads(plan.config)
    service = config["services"]["active-directory"]
    assert service["pre_hooks"] == [f"{AD_BACKUP_HOOK} /var/backups/bimkit/active-directory"]
    assert service["paths"] == ["/var/backups/bimkit/active-directory"]
    assert config["repository"]["repository_file"] == REPOSITORY_FILE
    assert "S3cret" not in plan.config
    timer = plan.units["bimkit-backup@active-directory.timer"]
    assert "OnCalendar=*-*-* 01:30\n" in timer and "FixedRandomDelay=true\n" in timer
    assert "Persistent=true\n" in timer


def test_hosts_reach_the_dr_repository_by_address_with_their_own_user() -> None:
    assert repository_url(DATA["dc1"], "dc1") == "rest:https://10.21.33.20:8000/dc1/"
    assert repository_url(DATA["dc1"], "dc1", "pw") == "rest:https://dc1:pw@10.21.33.20:8000/dc1/"


def test_thirteen_weekly_checks_read_every_pack_in_a_quarter() -> None:
    monday = datetime.date(2026, 1, 5)
    subsets = {jobs.this_weeks_subset(monday + datetime.timedelta(weeks=w)) for w in range(13)}
    assert subsets == {f"{n}/13" for n in range(1, 14)}


S3 = {"endpoint": "https://10.21.33.30:9000", "bucket": "kayapinar-dr"}


def test_with_s3_hosts_write_to_their_prefix_with_their_own_key_file() -> None:
    plan = plan_agent("fs1", {**DATA["fs1"], "dr_s3": S3})
    repository = json.loads(plan.config)["repository"]
    assert repository["url"] == "s3:https://10.21.33.30:9000/kayapinar-dr/fs1"
    assert repository["credentials_file"] == S3_CREDENTIALS_FILE
    assert repository["repository_file"] is None and repository["cacert"] is None


def test_with_s3_the_dr_host_runs_only_the_jobs_with_the_admin_key() -> None:
    data = {**DATA["dr1"], "dr_s3": S3}
    assert secret_names(data) == ["s3_access_key_id", "s3_secret_access_key"]
    plan = plan_repository("dr1", data, {"s3_access_key_id": "AK", "s3_secret_access_key": "SK"})
    assert plan.rest is None
    assert plan.s3_credentials == (
        "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n"
    )
    assert "bimkit-rest-admin.service" not in plan.units
    config = json.loads(plan.dr_config)
    assert config["admin_url"] == "s3:https://10.21.33.30:9000/kayapinar-dr"
    assert config["data_dir"] is None and config["credentials_file"].endswith("s3-credentials")
    repository = restic.for_dr_host(from_data(DrConfig, config), "fs1")
    assert repository.url == "s3:https://10.21.33.30:9000/kayapinar-dr/fs1"
    assert repository.repository_file is None


def test_a_line_with_the_salt_bimkit_once_derived_from_the_password_is_rehashed() -> None:
    salt = _derived_salt("dc1", "a")
    weak = bcrypt.hashpw(b"a", b"$2b$10$" + salt).decode()
    rewritten = htpasswd({"dc1": "a"}, f"dc1:{weak}\n")
    assert rewritten != f"dc1:{weak}\n"
    assert bcrypt.checkpw(b"a", rewritten.split(":", 1)[1].strip().encode())


def test_what_the_roles_write_is_what_the_hosts_load() -> None:
    """One definition for both sides: every host's backup.json and dr.json load as typed."""
    for name, data in DATA.items():
        if data.get("backup_policies"):
            loaded = from_data(BackupConfig, json.loads(plan_agent(name, data).config))
            assert loaded.host == name and loaded.services
        if data.get("repositories"):
            config = from_data(DrConfig, json.loads(plan_repository(name, data, SECRETS).dr_config))
            assert set(config.repositories) == {"dc1", "dr1", "fs1", "log1", "pbx1"}


def test_a_config_file_that_does_not_fit_names_the_field(tmp_path: Path) -> None:
    document = json.loads(plan_agent("dc1", DATA["dc1"]).config)
    document["services"]["active-directory"]["paths"] = "/var/backups"
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigInvalid, match=r"backup.json: services.active-directory.paths: "
                       "expected a list"):  # fmt: skip
        load(BackupConfig, str(path))
