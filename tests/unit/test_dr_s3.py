"""bimkit.dr.s3 against an S3 API server started on loopback (moto's server, real HTTP)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from bimkit.dr.s3 import LIFECYCLE_RULE, BucketPolicy, S3Unavailable, drift, provision

POLICY = BucketPolicy("kayapinar-dr", lock_days=14, lock_mode="GOVERNANCE", noncurrent_days=21)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the S3 server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def client(url: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


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
