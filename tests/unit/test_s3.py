"""bimkit.s3 against an S3 API server started on loopback (moto's server, real HTTP)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from bimkit.s3 import (
    LIFECYCLE_RULE,
    BucketPolicy,
    S3Unavailable,
    dr_jobs_policy,
    drift,
    host_policy,
    provision,
)
from tests import s3_users
from tests.conftest import EstateData
from tests.s3_users import NO_AUTH_ALLOWANCE, bucket_with_users
from tests.unit.test_cli import bimkit
from tests.unit.test_validation import setter

POLICY = BucketPolicy("kayapinar-dr", lock_days=14, lock_mode="GOVERNANCE", noncurrent_days=21)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def moto_server(**env: str) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        s3_users.wait_for_port("127.0.0.1", port, server, "the S3 server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def client(url: str):  # type: ignore[no-untyped-def]
    return s3_users.client("s3", url)


def test_provision_makes_a_locked_versioned_bucket_once(endpoint: str) -> None:
    s3 = client(endpoint)
    done = provision(s3, endpoint, POLICY)
    assert done[0] == "created bucket kayapinar-dr with object lock"
    assert "default retention GOVERNANCE 14 days" in done
    assert s3.get_bucket_versioning(Bucket="kayapinar-dr")["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket="kayapinar-dr")["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 14)
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket="kayapinar-dr")["Rules"]
    assert (rule["ID"], rule["NoncurrentVersionExpiration"]["NoncurrentDays"]) == (
        LIFECYCLE_RULE,
        21,
    )
    assert drift(s3, endpoint, POLICY) == []
    assert provision(s3, endpoint, POLICY) == []


def test_drift_names_each_setting_and_provision_repairs_it(endpoint: str) -> None:
    s3 = client(endpoint)
    assert drift(s3, endpoint, POLICY) == [f"bucket kayapinar-dr at {endpoint}: does not exist"]
    provision(s3, endpoint, POLICY)
    s3.delete_bucket_lifecycle(Bucket="kayapinar-dr")
    longer = BucketPolicy("kayapinar-dr", lock_days=30, lock_mode="GOVERNANCE", noncurrent_days=37)
    found = drift(s3, endpoint, longer)
    assert len(found) == 2
    assert "object lock is Enabled GOVERNANCE 14 days, want Enabled GOVERNANCE 30 days" in found[0]
    assert f"no enabled rule {LIFECYCLE_RULE}" in found[1]
    provision(s3, endpoint, longer)
    assert drift(s3, endpoint, longer) == []


def test_a_locked_version_cannot_be_deleted_before_its_retention(endpoint: str) -> None:
    s3 = client(endpoint)
    provision(s3, endpoint, POLICY)
    version = s3.put_object(Bucket="kayapinar-dr", Key="dc1/config", Body=b"x")["VersionId"]
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket="kayapinar-dr", Key="dc1/config", VersionId=version)


def test_an_unreachable_endpoint_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(S3Unavailable, match=f"cannot reach the S3 endpoint {url}"):
        drift(client(url), url, POLICY)


def test_a_host_key_adds_to_its_own_prefix_and_deletes_only_its_locks() -> None:
    """bimkit's IAM policies as moto enforces them (moto skips the listing condition)."""
    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT=str(NO_AUTH_ALLOWANCE)) as url:
        keys = bucket_with_users(url, "kayapinar-dr", ["dc1", "fs1"])
        fs1, dr = s3_users.client("s3", url, keys["fs1"]), s3_users.client("s3", url, keys["dr"])
        fs1.put_object(Bucket="kayapinar-dr", Key="fs1/data/ab/abcd", Body=b"pack")
        fs1.put_object(Bucket="kayapinar-dr", Key="fs1/locks/1234", Body=b"lock")
        fs1.delete_object(Bucket="kayapinar-dr", Key="fs1/locks/1234")
        # What restic does first: stat its config, list its own prefix.
        fs1.put_object(Bucket="kayapinar-dr", Key="fs1/config", Body=b"config")
        assert fs1.head_object(Bucket="kayapinar-dr", Key="fs1/config")["ContentLength"] == 6
        listed = fs1.list_objects_v2(Bucket="kayapinar-dr", Prefix="fs1/")
        assert {item["Key"] for item in listed["Contents"]} >= {"fs1/config", "fs1/data/ab/abcd"}
        dr.put_object(Bucket="kayapinar-dr", Key="dc1/config", Body=b"dc1")
        refused = {
            "reading dc1's repository": lambda: fs1.get_object(
                Bucket="kayapinar-dr", Key="dc1/config"
            ),
            "writing to dc1's repository": lambda: fs1.put_object(
                Bucket="kayapinar-dr", Key="dc1/data/x", Body=b"x"
            ),
            "deleting its own data": lambda: fs1.delete_object(
                Bucket="kayapinar-dr", Key="fs1/data/ab/abcd"
            ),
            "changing the bucket": lambda: fs1.delete_bucket_lifecycle(Bucket="kayapinar-dr"),
        }
        for what, attempt in refused.items():
            with pytest.raises(ClientError, match="AccessDenied"):
                attempt()
                pytest.fail(f"fs1's key was allowed {what}")
        dr.delete_object(Bucket="kayapinar-dr", Key="fs1/data/ab/abcd")  # prune: a delete marker
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            s3_users.client("s3", url, ("AKIAFORGED", "x")).list_buckets()


def s3_estate(estate_data: EstateData, endpoint: str) -> str:
    estate_data.edit("estate.yaml", setter("dr_repository", value="s3"))
    estate_data.edit(
        "estate.yaml", setter("dr_s3", value={"endpoint": endpoint, "bucket": "kayapinar-dr"})
    )
    return str(estate_data.root)


KEY_ENV = {"BIMKIT_S3_ACCESS_KEY_ID": "dr-key", "BIMKIT_S3_SECRET_ACCESS_KEY": "dr-S3cret"}


def test_the_cli_provisions_then_finds_no_drift_then_names_a_drift(
    endpoint: str, estate_data: EstateData
) -> None:
    data = s3_estate(estate_data, endpoint)
    drifted = bimkit("dr", "s3", "drift", "--data", data, env=KEY_ENV)
    assert drifted.returncode == 1
    assert f"bucket kayapinar-dr at {endpoint}: does not exist" in drifted.stdout
    made = bimkit("dr", "s3", "provision", "--data", data, env=KEY_ENV)
    assert made.returncode == 0, made.stderr
    assert "created bucket kayapinar-dr with object lock" in made.stdout
    assert "default retention GOVERNANCE 14 days" in made.stdout  # the longest daily retention
    clean = bimkit("dr", "s3", "drift", "--data", data, env=KEY_ENV)
    assert (clean.returncode, clean.stdout.strip()) == (
        0,
        f"bucket kayapinar-dr at {endpoint} matches the policy",
    )
    client(endpoint).delete_bucket_lifecycle(Bucket="kayapinar-dr")
    drifted = bimkit("dr", "s3", "drift", "--data", data, env=KEY_ENV)
    assert drifted.returncode == 1 and LIFECYCLE_RULE in drifted.stdout
    assert "S3cret" not in drifted.stdout + drifted.stderr


def test_the_cli_names_an_unreachable_endpoint_and_missing_keys(estate_data: EstateData) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    data = s3_estate(estate_data, url)
    unreachable = bimkit("dr", "s3", "drift", "--data", data, env=KEY_ENV)
    assert unreachable.returncode != 0
    assert f"cannot reach the S3 endpoint {url}" in unreachable.stderr
    empty = estate_data.root / "no-secrets"
    empty.mkdir(mode=0o700)
    keyless = bimkit(
        "dr", "s3", "provision", "--data", data, env={"BIMKIT_SECRETS_DIR": str(empty)}
    )
    assert keyless.returncode != 0 and "secret `s3_access_key_id` is not set" in keyless.stderr


def test_the_cli_prints_each_hosts_iam_policy(estate_data: EstateData) -> None:
    data = s3_estate(estate_data, "http://127.0.0.1:9")
    printed = bimkit("dr", "s3", "policy", "fs1", "--data", data)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == host_policy("kayapinar-dr", "fs1")
    dr = bimkit("dr", "s3", "policy", "dr1", "--data", data)
    assert json.loads(dr.stdout) == dr_jobs_policy("kayapinar-dr")
    wrong = bimkit("dr", "s3", "policy", "zabita-ws01", "--data", data)
    assert wrong.returncode != 0 and "zabita-ws01 is neither a protected host" in wrong.stderr
