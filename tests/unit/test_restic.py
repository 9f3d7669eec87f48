"""dr.restic without restic: exit codes, JSON, masking (real restic runs in the lab tier)."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dr import restic


@pytest.fixture
def repository(tmp_path: Path) -> restic.Repository:
    password = tmp_path / "password"
    password.write_text("repo-S3cret\n")
    url = tmp_path / "repository"
    url.write_text("rest:https://dc1:rest-S3cret@10.21.33.20:8000/dc1/\n")
    return restic.Repository(
        url="rest:https://10.21.33.20:8000/dc1/",
        password_file=str(password),
        owner="dc1",
        repository_file=str(url),
        cacert="/etc/bimkit/dr-ca.pem",
    )


def completed(code: int, stdout: str = "", stderr: str = "") -> Any:
    def runner(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        runner.argv, runner.env = argv, kwargs["env"]  # type: ignore[attr-defined]
        return subprocess.CompletedProcess(argv, code, stdout, stderr)

    return runner


def test_secrets_travel_in_files_and_environment_never_in_argv(
    repository: restic.Repository,
) -> None:
    runner = completed(0, "[]")
    restic.run(repository, "snapshots", "--host", "dc1", runner=runner)
    assert runner.argv == ["restic", "snapshots", "--json", "--host", "dc1"]
    assert not [word for word in runner.argv if "S3cret" in word]
    assert runner.env["RESTIC_PASSWORD_FILE"] == repository.password_file
    assert runner.env["RESTIC_REPOSITORY_FILE"] == repository.repository_file
    assert runner.env["RESTIC_CACERT"] == "/etc/bimkit/dr-ca.pem"
    assert "RESTIC_REPOSITORY" not in runner.env
    assert not [key for key, value in runner.env.items() if "S3cret" in value]


@pytest.mark.parametrize(
    ("code", "kind", "cause"),
    [
        (1, restic.ResticError, "failed"),
        (3, restic.PartialBackup, "some files could not be read"),
        (10, restic.RepositoryMissing, "there is no repository"),
        (11, restic.RepositoryLocked, "locked by another restic process"),
        (12, restic.WrongPassword, "the repository password is wrong"),
        (130, restic.Interrupted, "interrupted"),
        (77, restic.ResticError, "failed"),
    ],
)
def test_exit_codes_map_to_errors_naming_host_and_command(
    repository: restic.Repository, code: int, kind: type[restic.ResticError], cause: str
) -> None:
    with pytest.raises(kind) as raised:
        restic.run(repository, "backup", runner=completed(code, stderr="Fatal: it broke\n"))
    message = str(raised.value)
    assert type(raised.value) is kind
    assert message.startswith("restic backup on dc1's repository (rest:https://10.21.33.20:8000/")
    assert cause in message and f"[exit {code}]" in message and "Fatal: it broke" in message


def test_secrets_in_restic_messages_are_masked(repository: restic.Repository) -> None:
    leaky = "Fatal: unable to open repo at rest:https://dc1:rest-S3cret@dr1:8000/dc1/: 401\n"
    with pytest.raises(restic.ResticError) as raised:
        restic.run(repository, "cat", runner=completed(1, stderr=leaky))
    assert "S3cret" not in str(raised.value) and restic.MASK in str(raised.value)
    result = restic.run(repository, "cat", allowed=(0, 1), runner=completed(1, stderr=leaky))
    assert "S3cret" not in result.stderr


def test_a_url_with_a_credential_is_shown_without_it() -> None:
    assert restic._safe_url("rest:https://u:p@dr1:8000/x/") == "rest:https://dr1:8000/x/"
    assert restic._safe_url("/srv/restic/dc1") == "/srv/restic/dc1"
    assert restic.url_credential("rest:https://u:p:q@dr1:8000/x/") == "p:q"
    assert restic.url_credential("rest:https://dr1:8000/x/") == ""


def test_a_missing_repository_is_created_once(repository: restic.Repository) -> None:
    calls: list[str] = []

    def runner(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv[1])
        exists = "init" in calls
        code = 0 if argv[1] == "init" or exists else restic.EXIT_NO_REPOSITORY
        return subprocess.CompletedProcess(argv, code, "{}", "")

    assert restic.init(repository, runner=runner) is True
    assert restic.init(repository, runner=runner) is False
    assert calls == ["cat", "init", "cat"]


def test_backup_summary_and_unreadable_files_from_json_lines() -> None:
    lines = [
        {"message_type": "status", "percent_done": 0.5},
        {"message_type": "error", "error": {"message": "permission denied"}, "item": "/srv/x"},
        {"message_type": "summary", "files_new": 3, "data_added": 1024, "snapshot_id": "ab12"},
    ]
    result = restic.Result(3, restic.parse_json("\n".join(json.dumps(m) for m in lines)))
    summary = restic.backup_summary(result)
    assert (summary["files_new"], summary["snapshot_id"]) == (3, "ab12")
    assert summary["unreadable"] == ["/srv/x"]
    with pytest.raises(ValueError, match="no summary"):
        restic.backup_summary(restic.Result(1, []))


def test_one_json_document_is_a_list_of_messages() -> None:
    assert restic.parse_json('[{"id": "a"}, {"id": "b"}]') == [{"id": "a"}, {"id": "b"}]
    assert restic.parse_json('{"total_size": 5}') == [{"total_size": 5}]
    assert restic.parse_json("") == []


def test_an_s3_key_travels_in_a_credentials_file_and_its_secret_is_masked(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("repo-S3cret\n")
    credentials = tmp_path / "s3-credentials"
    credentials.write_text(restic.aws_credentials("AKFS1", "s3-S3cret"))
    repository = restic.Repository(
        url=restic.s3_url("https://10.21.33.30:9000/", "kayapinar-dr", "fs1"),
        password_file=str(password),
        owner="fs1",
        credentials_file=str(credentials),
    )
    assert repository.url == "s3:https://10.21.33.30:9000/kayapinar-dr/fs1"
    runner = completed(1, stderr="Fatal: s3.getCredentials: key s3-S3cret refused\n")
    with pytest.raises(restic.ResticError) as raised:
        restic.run(repository, "snapshots", runner=runner)
    assert runner.env["AWS_SHARED_CREDENTIALS_FILE"] == str(credentials)
    assert "RESTIC_REPOSITORY_FILE" not in runner.env
    assert not [key for key, value in runner.env.items() if "S3cret" in value]
    assert "S3cret" not in str(raised.value) and restic.MASK in str(raised.value)


def test_restic_times_with_nanoseconds_and_offsets_are_read() -> None:
    parsed = restic.parse_time("2026-11-26T01:30:05.123456789+03:00")
    assert parsed == datetime.datetime(2026, 11, 25, 22, 30, 5, 123456, tzinfo=datetime.UTC)
    assert restic.parse_time("2026-11-26T01:30:05Z").hour == 1
    assert restic.parse_time("2026-11-26T01:30:05.5+00:00").microsecond == 500000
