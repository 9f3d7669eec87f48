"""The one restic runner: argv and environment, exit codes, JSON output, masked secrets.

The backup agent, the DR host's jobs and the drills run restic through it.

Secrets never reach argv or the environment: the repository password is a
file (RESTIC_PASSWORD_FILE), so is the URL with the rest-server credential
(RESTIC_REPOSITORY_FILE) and, for S3, the access key (an AWS credentials
file, AWS_SHARED_CREDENTIALS_FILE); every message this module builds passes
through `mask`. Exit codes as restic >= 0.17
defines them: 0 ok, 1 fatal, 3 some source files unreadable (snapshot made
but incomplete), 10 no repository, 11 lock failed, 12 wrong password,
130 interrupted; anything else is a failure too.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr.config import DrConfig, RepositoryAccess

EXIT_PARTIAL = 3
EXIT_NO_REPOSITORY = 10
EXIT_LOCKED = 11
EXIT_WRONG_PASSWORD = 12
EXIT_INTERRUPTED = 130
MASK = "********"


@dataclass(frozen=True)
class Repository:
    """Where one host's backups live and how to open them."""

    url: str
    """For messages: `rest:https://10.21.33.20:8000/dc1/`, never with a credential."""
    password_file: str
    """File holding the repository password (mode 0600)."""
    owner: str
    """The host whose backups these are, for messages."""
    repository_file: str | None = None
    """File holding the URL with the rest-server credential (mode 0600); else `url` is used."""
    cacert: str | None = None
    """CA certificate that signed the rest-server's TLS certificate."""
    cache_dir: str | None = None
    credentials_file: str | None = None
    """S3 only: an AWS credentials file (`[default]` with the access key id and secret)."""

    def environment(self) -> dict[str, str]:
        """Only file names: no secret appears in the environment (`ps e`) or in argv."""
        env = {"RESTIC_PASSWORD_FILE": self.password_file}
        if self.repository_file:
            env["RESTIC_REPOSITORY_FILE"] = self.repository_file
        else:
            env["RESTIC_REPOSITORY"] = self.url
        if self.cacert:
            env["RESTIC_CACERT"] = self.cacert
        if self.cache_dir:
            env["RESTIC_CACHE_DIR"] = self.cache_dir
        if self.credentials_file:
            env["AWS_SHARED_CREDENTIALS_FILE"] = self.credentials_file
            env["AWS_PROFILE"] = "default"
        return env

    def secrets(self) -> list[str]:
        """Values that must never be shown: the password and the URL's credential."""
        found = [read_secret(self.password_file)]
        if self.repository_file:
            found.append(url_credential(read_secret(self.repository_file)))
        if self.credentials_file:
            found.append(aws_secret(read_secret(self.credentials_file)))
        return [value for value in found if value]


def url_credential(url: str) -> str:
    """The password in `scheme://user:password@host/...`, or ''."""
    _, separator, rest = url.partition("://")
    userinfo = rest.split("/", 1)[0].rpartition("@")[0] if separator else ""
    return userinfo.partition(":")[2]


def s3_url(endpoint: str, bucket: str, prefix: str = "") -> str:
    """restic's S3 repository URL: `s3:https://host:port/bucket[/prefix]`."""
    return f"s3:{endpoint.rstrip('/')}/{bucket}" + (f"/{prefix}" if prefix else "")


def aws_credentials(access_key_id: str, secret_access_key: str) -> str:
    """An AWS shared credentials file: restic's S3 backend reads it when the env names it."""
    return (
        f"[default]\naws_access_key_id = {access_key_id}\n"
        f"aws_secret_access_key = {secret_access_key}\n"
    )


def aws_secret(credentials: str) -> str:
    """The secret access key in an AWS credentials file, or ''."""
    for line in credentials.splitlines():
        name, separator, value = line.partition("=")
        if separator and name.strip() == "aws_secret_access_key":
            return value.strip()
    return ""


def read_secret(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def mask(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


@dataclass
class ResticError(Exception):
    """restic failed; the message names the repository's host, the command and the cause."""

    owner: str
    command: str
    exit_code: int
    detail: str
    url: str = ""

    def __str__(self) -> str:
        where = f"{self.owner}'s repository" + (f" ({self.url})" if self.url else "")
        return f"restic {self.command} on {where}: {self.cause} [exit {self.exit_code}]" + (
            f": {self.detail}" if self.detail else ""
        )

    @property
    def cause(self) -> str:
        return "failed"


class RepositoryMissing(ResticError):
    @property
    def cause(self) -> str:
        return "there is no repository yet (`bimkit dr init`, or the first backup, makes it)"


class RepositoryLocked(ResticError):
    @property
    def cause(self) -> str:
        return "the repository is locked by another restic process"


class WrongPassword(ResticError):
    @property
    def cause(self) -> str:
        return "the repository password is wrong"


class PartialBackup(ResticError):
    @property
    def cause(self) -> str:
        return "some files could not be read; the snapshot is incomplete"


class Interrupted(ResticError):
    @property
    def cause(self) -> str:
        return "interrupted"


ERRORS: Mapping[int, type[ResticError]] = {
    EXIT_PARTIAL: PartialBackup,
    EXIT_NO_REPOSITORY: RepositoryMissing,
    EXIT_LOCKED: RepositoryLocked,
    EXIT_WRONG_PASSWORD: WrongPassword,
    EXIT_INTERRUPTED: Interrupted,
}


def error_for(
    repository: Repository, command: str, exit_code: int, stderr: str, secrets: Iterable[str]
) -> ResticError:
    """The exception for a non-zero exit; unknown codes are plain failures."""
    lines = [line for line in mask(stderr, secrets).splitlines() if line.strip()]
    detail = _message(lines[-1]) if lines else ""
    kind = ERRORS.get(exit_code, ResticError)
    return kind(repository.owner, command, exit_code, detail, _safe_url(repository.url))


def _message(line: str) -> str:
    """The first line of restic's message: with --json its errors are JSON objects too."""
    try:
        message = json.loads(line).get("message", line)
    except (json.JSONDecodeError, AttributeError):
        message = line
    return str(message).strip().splitlines()[0] if str(message).strip() else ""


def _safe_url(url: str) -> str:
    """A URL with any `user:password@` part removed."""
    scheme, separator, rest = url.partition("://")
    if separator and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


@dataclass
class Result:
    exit_code: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    """restic's JSON output: one object per line, or the one document."""
    stderr: str = ""


Runner = Callable[..., subprocess.CompletedProcess[str]]


def run(
    repository: Repository,
    command: str,
    *arguments: str,
    restic: str = "restic",
    allowed: Sequence[int] = (0,),
    timeout: float | None = None,
    runner: Runner = subprocess.run,
) -> Result:
    """Run `restic COMMAND --json ARGUMENTS` on `repository`.

    Exit codes in `allowed` are returned; any other raises the matching ResticError.
    """
    env = {**os.environ, **repository.environment()}
    completed = runner(
        [restic, command, "--json", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    secrets = repository.secrets()
    if completed.returncode not in allowed:
        raise error_for(repository, command, completed.returncode, completed.stderr, secrets)
    return Result(
        completed.returncode, parse_json(completed.stdout), mask(completed.stderr, secrets)
    )


def parse_json(stdout: str) -> list[dict[str, Any]]:
    """restic prints one JSON document (snapshots, stats) or one object per line (backup)."""
    text = stdout.strip()
    if not text:
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return document if isinstance(document, list) else [document]


def repository_exists(repository: Repository, **options: Any) -> bool:
    """`restic cat config`: exit 0 when the repository exists, 10 when it does not."""
    result = run(repository, "cat", "config", allowed=(0, EXIT_NO_REPOSITORY), **options)
    return result.exit_code == 0


def init(repository: Repository, **options: Any) -> bool:
    """Create the repository unless it exists; True when it was created now."""
    if repository_exists(repository, **options):
        return False
    run(repository, "init", **options)
    return True


def for_dr_host(config: DrConfig, host: str) -> Repository:
    """`host`'s repository as the DR host's jobs open it, from /etc/bimkit/dr.json.

    Through the admin rest-server instance (its credential in <host>.repository),
    or in S3 with the DR jobs' key (`credentials_file`).
    """
    folder = config.credentials_dir
    s3_key = config.credentials_file
    return Repository(
        url=f"{config.admin_url}/{host}" + ("" if s3_key else "/"),
        password_file=f"{folder}/{host}.password",
        owner=host,
        repository_file=None if s3_key else f"{folder}/{host}.repository",
        cache_dir=config.cache_dir,
        credentials_file=s3_key,
    )


def from_access(access: RepositoryAccess) -> Repository:
    """The repository a host's backup.json describes."""
    return Repository(**dataclasses.asdict(access))


def reported_errors(result: Result) -> list[dict[str, str]]:
    """restic's `error` messages (JSON lines on stderr): the item and what went wrong."""
    found = []
    for line in result.stderr.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("message_type") == "error":
            error = message.get("error") or {}
            text = error.get("message", "") if isinstance(error, dict) else str(error)
            found.append({"item": str(message.get("item", "")), "message": text})
    return found


def parse_time(text: str) -> datetime.datetime:
    """restic's times carry nanoseconds and an offset: 2026-11-26T01:30:05.123456789+03:00."""
    match = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text)
    if not match:
        raise ValueError(f"not a restic time: {text}")
    base, fraction, offset = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    offset = "+00:00" if offset in (None, "Z") else offset
    return datetime.datetime.fromisoformat(f"{base}.{micro}{offset}")


def backup_summary(result: Result) -> dict[str, Any]:
    """The `summary` message of `restic backup --json`, plus the files it could not read."""
    summary = next((m for m in result.messages if m.get("message_type") == "summary"), None)
    if summary is None:
        raise ValueError("restic backup printed no summary")
    unreadable = [m.get("item", "?") for m in result.messages if m.get("message_type") == "error"]
    return {**summary, "unreadable": unreadable}
