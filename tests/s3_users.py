"""S3 users with bimkit's IAM policies on moto's S3 server, which then enforces them.

moto checks signatures and IAM policies once INITIAL_NO_AUTH_ACTION_COUNT
requests have been served without checks; the users and the bucket are
made within that allowance, then requests with an unknown key are sent
until moto refuses one. moto does not evaluate policy conditions, such as
the `s3:prefix` condition on listing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bimkit.s3 import BucketPolicy, dr_jobs_policy, host_policy, provision

NO_AUTH_ALLOWANCE = 40
"""INITIAL_NO_AUTH_ACTION_COUNT for the server: enough for the set-up below."""

Key = tuple[str, str]


def wait_for_port(address: str, port: int, server: subprocess.Popen[bytes], what: str) -> None:
    """Until `server` accepts connections; fails when it exits or takes over a minute."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection((address, port), timeout=2).close()
            return
        except OSError:
            assert server.poll() is None, f"{what} exited"
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)


def client(service: str, endpoint: str, key: Key = ("test", "test")) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )


def bucket_with_users(endpoint: str, bucket: str, hosts: list[str]) -> dict[str, Key]:
    """A locked bucket, a user per host with `host_policy`, and `dr` with `dr_jobs_policy`."""
    iam = client("iam", endpoint)
    keys: dict[str, Key] = {}
    policies = {host: host_policy(bucket, host) for host in hosts} | {"dr": dr_jobs_policy(bucket)}
    for user, document in policies.items():
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="bimkit", PolicyDocument=json.dumps(document))
        created = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (created["AccessKeyId"], created["SecretAccessKey"])
    provision(
        client("s3", endpoint, keys["dr"]), endpoint, BucketPolicy(bucket, 1, "GOVERNANCE", 8)
    )
    for _ in range(NO_AUTH_ALLOWANCE):
        try:
            client("s3", endpoint, ("unknown", "unknown")).list_buckets()
        except ClientError as refused:
            assert refused.response["Error"]["Code"] == "InvalidAccessKeyId"
            return keys
    raise AssertionError(f"moto at {endpoint} never started checking keys")
